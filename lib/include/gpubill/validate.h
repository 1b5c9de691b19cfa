/* gpubill/validate.h - being written. */
#ifndef GPUBILL_VALIDATE_H
#define GPUBILL_VALIDATE_H
#endif
