/* libFuzzer target: PNG decoding (every colour type and depth, tRNS, eXIf,
 * 16-bit kept or narrowed). Any input must decode or fail, never crash. */
#include <stddef.h>
#include <stdint.h>

#include "dl_native.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dl_decode_opts plain = {.max_pixels = 1 << 22};
  dl_decode_opts wide = {.max_pixels = 1 << 22, .channels = 2, .keep_16bit = 1};
  dl_image_info info;
  dl_tensor *t;
  if (dl_image_decode(&t, data, size, &plain, &info, NULL) == DL_OK) dl_tensor_release(t);
  if (dl_image_decode(&t, data, size, &wide, &info, NULL) == DL_OK) dl_tensor_release(t);
  dl_image_probe(data, size, &info, NULL);
  return 0;
}
