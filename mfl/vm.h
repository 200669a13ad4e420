/* vm.h - the interpreter (libmfl inside) */
#ifndef MFL_VM_H
#define MFL_VM_H

#include <stdint.h>

struct mfl_run;
struct value;

int vm_exec(struct mfl_run *run, uint32_t pc, int stop_depth);
int vm_frame_room(struct mfl_run *run);
int vm_setcontrol(struct mfl_run *run, int control, const struct value *v);

#endif
