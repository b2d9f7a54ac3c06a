/* libFuzzer target: JPEG decoding (header, DCT scaling, orientation, channel
 * conversion). Any input must decode or fail with an error, never crash. */
#include <stddef.h>
#include <stdint.h>

#include "dl_native.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A small pixel limit keeps each run fast and within the fuzzer's memory. */
  dl_decode_opts plain = {.max_pixels = 1 << 22};
  dl_decode_opts scaled = {.max_pixels = 1 << 22, .channels = 4, .min_width = 8, .min_height = 8};
  dl_image_info info;
  dl_tensor *t;
  if (dl_image_decode(&t, data, size, &plain, &info, NULL) == DL_OK) dl_tensor_release(t);
  if (dl_image_decode(&t, data, size, &scaled, &info, NULL) == DL_OK) dl_tensor_release(t);
  dl_image_probe(data, size, &info, NULL);
  return 0;
}
