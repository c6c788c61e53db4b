/*
 * acl.h — pytest-acl's AscendCL headers: what `#include "acl/acl.h"` gives a program, as
 * CANN's acl.h does (hicann/runtime include/external/acl/acl.h includes acl_rt.h, acl_op.h and
 * acl_mdl.h; single operators are not part of pytest-acl, so there is no acl_op.h).
 *
 * These headers declare what the pytest-acl simulator's C library (`pytest-acl sim-lib`)
 * implements; pytest_acl/capi/prototypes.py reads them as the one list of the C API.
 */
#ifndef PYTEST_ACL_INC_ACL_ACL_H_
#define PYTEST_ACL_INC_ACL_ACL_H_

#include "acl_base.h"
#include "acl_rt.h"
#include "acl_mdl.h"

/* The version of these headers' interface (the aclrtGetVersion of the simulator,
 * acl_rt.h "Current version is 1.17.0", reference/acl-api.md §0 RT-HDR). */
#define ACL_MAJOR_VERSION 1
#define ACL_MINOR_VERSION 17
#define ACL_PATCH_VERSION 0

#endif /* PYTEST_ACL_INC_ACL_ACL_H_ */
