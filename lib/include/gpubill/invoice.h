#ifndef GPUBILL_INVOICE_H
#define GPUBILL_INVOICE_H
/* being written */
#endif
