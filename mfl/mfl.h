/*
 * mfl.h - the language's one face for hosts (mvmda, mvmtr, the tools,
 * the tests): the env of controls, compiling, running, hooks, the action
 * list, and the intrinsic descriptors a host adds its own commands, tests
 * and $functions with.
 *
 * Hosts include this header for the language and "msg/msg.h" for the
 * message model, and no other header from mfl/ (t/sh/layers.sh checks).
 * Structs the language only passes through (struct msg, struct buf) are
 * declared here, not defined: a host that builds or reads them includes
 * the message model's face as well.
 */
#ifndef MFL_H
#define MFL_H

#include "action.h"
#include "intr/intr.h"
#include "mflapi.h"

#define MFL_VERSION	PACKAGE_VERSION

#endif
