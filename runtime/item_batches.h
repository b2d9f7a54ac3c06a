/* item_batches.h — turning a run's items into Lua batch objects.
 *
 * Items are prepared in one of three ways (spec §2):
 *   - the adapter declares `input`: native worker threads decode, resize and
 *     normalize into batch.tensor (the fast path);
 *   - the adapter defines prepare_item: it runs per item on the main thread;
 *   - otherwise the default for the mimetype (image tensor, text, record).
 * An item that fails preparation is marked in batch.ok/batch.errors; the run
 * records it and goes on. */
#ifndef RT_ITEM_BATCHES_H
#define RT_ITEM_BATCHES_H

#include "dl_native.h"
#include "host.h"
#include "items.h"

typedef enum rt_prep_mode { RT_PREP_PIPELINE, RT_PREP_ADAPTER, RT_PREP_DEFAULT } rt_prep_mode;

typedef struct rt_batches {
  rt_host *host;          /* borrowed */
  rt_item_list *items;    /* borrowed; widths and heights are filled in as items are prepared */
  const size_t *order;    /* borrowed: positions of the items to run, in order */
  size_t n;               /* how many */
  size_t next;            /* position in order of the next batch */
  int batch_size;         /* read-only: configuration.batch_size */
  rt_prep_mode mode;      /* read-only */
  int threads;            /* private: pipeline workers asked for */
  dl_pipeline_spec spec;  /* private: what the pipeline was started with */
  dl_pipeline *pipe;      /* owned in pipeline mode */
  dl_pipeline_batch *out; /* the native batch handed to Lua, until released */
} rt_batches;

/* Reads the adapter's input/prepare_item/configuration.batch_size and, for
 * the fast path, starts the pipeline over the items (threads: 0 = cores). */
int rt_batches_open(rt_batches *b, rt_host *h, rt_item_list *items, const size_t *order, size_t n,
                    int threads, rt_error *err);

/* Before the first batch: reads the adapter's plan again and, when it is
 * not the one the batches were opened with, opens them again. A run opens
 * its batches before load(), so that the pipeline decodes while the model
 * loads; load() may still set self.input or the batch size. */
int rt_batches_confirm(rt_batches *b, rt_error *err);

/* Pushes the next batch object onto the Lua stack and sets *first (position
 * in order of its first item) and *count. Returns 1 when all items are
 * done (nothing pushed), 0 otherwise, -1 on an error that stops the run. */
int rt_batches_next(rt_batches *b, size_t *first, int *count, rt_error *err);

/* After the user call: recycles the batch's native buffer, so views handed
 * to predict or embed turn stale. */
void rt_batches_release(rt_batches *b);

void rt_batches_close(rt_batches *b);

#endif
