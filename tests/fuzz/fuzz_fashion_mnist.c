/* libFuzzer target: the Fashion-MNIST importer's IDX reader
 * (runtime/import_fashion_mnist.c), reached through the importer itself.
 * The input is the four IDX files (train images, train labels, test images,
 * test labels; plain or gzip'd), separated by FUZZ_SEP. The import must
 * succeed or fail with an error; a few items per split are written into a
 * dataset that is then dropped. */
#include <stdio.h>

#include "dataset_import.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
  char *part[4];
  size_t len[4];
  fuzz_split(data, size, 4, part, len);
  char source[RT_PATH_MAX], path[RT_PATH_MAX], target[RT_PATH_MAX];
  rt_fs_path(source, NULL, "%s/idx", fuzz_scratch());
  for (int i = 0; i < 4; i++) {
    rt_fs_path(path, NULL, "%s/%s", source, names[i]);
    fuzz_put(path, part[i], len[i]);
  }
  rt_fs_path(target, NULL, "%s/datasets/fmnist", fuzz_scratch());

  rt_dataset_writer w;
  rt_error err = {{0}};
  FUZZ_CHECK(rt_dsw_begin(&w, target, "fmnist", false, &err) == 0, "%s", err.msg);
  rt_import_opts o = {.source = source, .validation = 1, .limit = 2, .quiet = true};
  if (rt_import_fashion_mnist(&w, &o, &err) < 0) fuzz_expect_error(&err);
  rt_dsw_abort(&w);
  fuzz_free_parts(4, part);
  return 0;
}
