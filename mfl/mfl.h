/*
 * mfl.h - libmfl's interface for hosts (mvmda, mvmtr, tools)
 *
 * Hosts include this header and nothing else from mfl/. It grows with the
 * language: the message model (the message held once, its header index,
 * addresses, MIME tree and decoding) and the language (mflapi.h: the
 * env of controls, compiling, running, the action list; intr.h: the
 * host's own commands, tests and $functions).
 */
#ifndef MFL_H
#define MFL_H

#include "action.h"
#include "addr.h"
#include "arena.h"
#include "buf.h"
#include "charset.h"
#include "hdr.h"
#include "intr.h"
#include "mflapi.h"
#include "mime.h"
#include "mimeparam.h"
#include "msg.h"
#include "rfc2047.h"

#define MFL_VERSION	PACKAGE_VERSION

#endif
