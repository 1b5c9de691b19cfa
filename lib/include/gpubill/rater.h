#ifndef GPUBILL_RATER_H
#define GPUBILL_RATER_H
/* being written */
#endif
