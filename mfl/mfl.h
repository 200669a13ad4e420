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
#include "msg/addr.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/charset.h"
#include "msg/hdr.h"
#include "intr/intr.h"
#include "mflapi.h"
#include "msg/mime.h"
#include "msg/mimeparam.h"
#include "msg/msg.h"
#include "msg/rfc2047.h"

#define MFL_VERSION	PACKAGE_VERSION

#endif
