/* dataset_import.h — the importers behind `dlrun dataset import`. Each one
 * fills a dataset writer; the command begins and finishes it. */
#ifndef RT_DATASET_IMPORT_H
#define RT_DATASET_IMPORT_H

#include <stdbool.h>

#include "dataset_writer.h"

typedef struct rt_import_opts {
  const char *source; /* fashion-mnist: folder of the IDX files (NULL: Debian's); folder: SRC */
  long validation;    /* fashion-mnist: items of the training set kept for /validation */
  long limit;         /* at most this many items per split (fashion-mnist, shapes) or class; 0: all */
  bool quiet;         /* no progress output */
} rt_import_opts;

int rt_import_fashion_mnist(rt_dataset_writer *w, const rt_import_opts *o, rt_error *err);
int rt_import_folder(rt_dataset_writer *w, const rt_import_opts *o, rt_error *err);
int rt_import_shapes(rt_dataset_writer *w, const rt_import_opts *o, rt_error *err);

#endif
