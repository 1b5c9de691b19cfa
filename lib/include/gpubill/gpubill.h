#ifndef GPUBILL_GPUBILL_H
#define GPUBILL_GPUBILL_H
/* being written */
#endif
