/* The table of dlrun's commands: words, usage, options and what runs them.
 * Help texts come from here, so an option added to a group is documented in
 * the --help of every command that accepts the group. */
#include <stddef.h>

#include "cli.h"
#include "commands.h"

/* Options that several groups share, defined once. */
#define OPTION_HOME {"home", 0, RT_OPT_VALUE, "DIR", "store root (default: $DATALOOP_PATH, else ~/.dataloop)"}
#define OPTION_STORE \
  {"store", 0, RT_OPT_VALUE, "URL", "model store: file:///path or http(s)://host/prefix/ (default: DIR/store)"}

static const rt_option model_options[] = {
    {"model", 'm', RT_OPT_VALUE, "NAME[@vN]", "model to use (default: the adapter's name; created on first use)"},
    OPTION_HOME,
    OPTION_STORE,
    {"overwrite", 0, RT_OPT_FLAG, NULL, "extract the model's artifacts again even when that version is present"},
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group model_group = {"Model", model_options};

static const rt_option config_options[] = {
    {"config", 'c', RT_OPT_LIST, "KEY=VALUE",
     "override a configuration key, after the adapter and the model (JSON value or string; a.b=1 sets a nested key)"},
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group config_group = {"Configuration", config_options};

static const rt_option output_options[] = {
    {"quiet", 'q', RT_OPT_FLAG, NULL, "no progress bar or progress lines"},
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group output_group = {"Output", output_options};

static const rt_option watch_options[] = {
    {"watch", 'w', RT_OPT_FLAG, NULL,
     "run again on the same items whenever the adapter or a Lua module it requires is saved (Ctrl-C stops)"},
    {"reload-model", 0, RT_OPT_FLAG, NULL, "with --watch: call load() on every run (by default only when it must)"},
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group watch_group = {"Development", watch_options};

static const rt_option item_options[] = {
    {"dataset", 'd', RT_OPT_VALUE, "NAME|PATH", "items of this dataset (a name under DIR/datasets/, or a path)"},
    {"filter", 'f', RT_OPT_LIST, "FILTER",
     "only items passing it: dir=/train, name=*.jpg, label=cat, annotated=true|false, or dtlpy JSON (ANDed)"},
    {"out", 'o', RT_OPT_VALUE, "DIR|-", "results of loose items: documents under DIR, or JSON Lines on stdout (-); by default, one short line per item on a terminal and JSON Lines otherwise"},
    {"resume", 0, RT_OPT_FLAG, NULL, "skip items that already hold this model's results"},
    {"threads", 'j', RT_OPT_VALUE, "N", "worker threads preparing items (default: online cores)"},
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group item_group = {"Items (a dataset, or files, folders and URLs as arguments)", item_options};

static const rt_option evaluate_item_options[] = {
    {"dataset", 'd', RT_OPT_VALUE, "NAME|PATH", "items of this dataset (default: the one whose id is the model's datasetId)"},
    {"filter", 'f', RT_OPT_LIST, "FILTER",
     "only items passing it, as for predict (default: the model's test subset, else dir=/test)"},
    {"resume", 0, RT_OPT_FLAG, NULL, "predict only items without this model's annotations; score all of them"},
    {"threads", 'j', RT_OPT_VALUE, "N", "worker threads preparing items (default: online cores)"},
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group evaluate_item_group = {"Items (a dataset's test subset)", evaluate_item_options};

static const rt_option import_options[] = {
    OPTION_HOME,
    {"overwrite", 0, RT_OPT_FLAG, NULL, "replace a dataset that already exists"},
    {"validation", 0, RT_OPT_VALUE, "N", "fashion-mnist: the last N training items go to /validation (5000)"},
    {"source", 0, RT_OPT_VALUE, "DIR", "fashion-mnist: folder of the IDX .gz files (default: Debian's package)"},
    {"limit", 0, RT_OPT_VALUE, "N", "import at most N items per split (fashion-mnist, shapes) or class (folder)"},
    {"quiet", 'q', RT_OPT_FLAG, NULL, "no progress output"},
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group import_group = {"Options", import_options};

static const rt_option train_options[] = {
    {"dataset", 'd', RT_OPT_VALUE, "NAME|PATH",
     "train on this dataset, recorded as the model's datasetId (default: its datasetId)"},
    {"cleanup", 0, RT_OPT_FLAG, NULL, "remove the prepared data (DIR/model_data/...) when done"},
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group train_group = {"Training", train_options};

static const char *const requires_load[] = {"load", NULL};
static const char *const requires_save[] = {"save", NULL};
static const char *const requires_predict[] = {"load", "predict", NULL};
static const char *const requires_embed[] = {"load", "embed", NULL};
static const char *const requires_train[] = {"load", "train", "save", NULL};

static const rt_option_group *const adapter_groups[] = {&model_group, &config_group, &output_group, NULL};
static const rt_option_group *const train_groups[] = {&train_group, &model_group, &config_group, &output_group, NULL};
static const rt_option_group *const item_groups[] = {&item_group, &model_group, &config_group, &output_group,
                                                    &watch_group, NULL};
static const rt_option_group *const evaluate_groups[] = {&evaluate_item_group, &model_group, &config_group,
                                                        &output_group, &watch_group, NULL};
static const rt_option store_options[] = {
    OPTION_HOME,
    OPTION_STORE,
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group store_group = {"Store", store_options};
static const rt_option create_options[] = {
    {"label", 'l', RT_OPT_LIST, "LABEL", "a label of the model, in order (repeat for each)"},
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group create_group = {"Model", create_options};
static const rt_option_group *const store_groups[] = {&store_group, NULL};
static const rt_option_group *const create_groups[] = {&create_group, &store_group, NULL};
static const rt_option_group *const no_groups[] = {NULL};
static const rt_option_group *const import_groups[] = {&import_group, NULL};

static const rt_command cmd_predict = {
    .name = "predict",
    .usage = "ADAPTER.lua predict [options] [ITEM...]",
    .summary = "predict_items: run predict over a dataset or loose items and save the annotations",
    .details =
        "Items come from --dataset (with --filter) or from the arguments. Annotations of a\n"
        "dataset are merged into its json/ documents: this model's previous annotations are\n"
        "replaced, ground truth and other models' annotations are kept. A run folder under\n"
        "DIR/runs/ keeps summary.json, failures.jsonl and log.txt. Ctrl-C finishes the current\n"
        "batch and stops; --resume continues.",
    .needs_adapter = true,
    .requires = requires_predict,
    .groups = item_groups,
    .max_positional = -1,
    .run = rt_cmd_predict,
};

static const rt_command cmd_embed = {
    .name = "embed",
    .usage = "ADAPTER.lua embed [options] [ITEM...]",
    .summary = "embed_items: run embed over items and store the vectors in the model's feature set",
    .details =
        "Vectors go to DIR/feature_sets/<model>/ (vectors.f32, items.jsonl, meta.json): an item\n"
        "embedded again replaces its row. Their length must equal configuration.embeddings_size;\n"
        "when that is unset, the first batch fixes it. Query them with 'dlrun similar'.",
    .needs_adapter = true,
    .requires = requires_embed,
    .groups = item_groups,
    .max_positional = -1,
    .run = rt_cmd_embed,
};

static const rt_command cmd_train = {
    .name = "train",
    .usage = "ADAPTER.lua train [options]",
    .summary = "train_model: prepare the model's subsets, run train, save the result as a new version",
    .details =
        "Status becomes training; the model is loaded (A:load); its subsets (model.json\n"
        "metadata.system.subsets, default train = dir /train, validation = dir /validation) are\n"
        "copied with their ground truth into DIR/model_data/<id>_<name>/<time>/datasets/<dataset id>/;\n"
        "A:train(data_path, output_path, opts) runs, reporting each epoch through\n"
        "opts.on_epoch_end(epoch, n_epochs, metrics) into model.json metrics.train; then\n"
        "A:save(output_path) and the whole output folder becomes the next version, status trained.\n"
        "If train raises, the output folder is still saved, the status becomes failed, exit 1.\n"
        "Ctrl-C (or SIGTERM) stops at the end of the current epoch the same way, exit 130 (143).",
    .needs_adapter = true,
    .requires = requires_train,
    .groups = train_groups,
    .run = rt_cmd_train,
};

static const rt_command cmd_evaluate = {
    .name = "evaluate",
    .usage = "ADAPTER.lua evaluate [options]",
    .summary = "evaluate_model: predict over test items, compare to ground truth, write metrics and plots",
    .details =
        "Predicts over the items as 'predict' does (this model's annotations in the documents\n"
        "are replaced), then matches each item's ground truth with them. Classes give accuracy,\n"
        "per-label precision, recall and F1 and a confusion matrix; boxes, polygons, points and\n"
        "masks give precision/recall curves, AP@0.5 and mAP@[.5:.95]. The tables are printed;\n"
        "the run folder gets metrics.json, confusion_matrix.png (classes) and pr_curve.png\n"
        "(the other types; pr_curve_<type>.png each when there are several); the model's\n"
        "metrics.evaluate gets the headline numbers. Items failed in the run are not scored.",
    .needs_adapter = true,
    .requires = requires_predict,
    .groups = evaluate_groups,
    .run = rt_cmd_evaluate,
};

static const rt_command cmd_load = {
    .name = "load",
    .usage = "ADAPTER.lua load [options]",
    .summary = "load_from_model: fetch the model's artifacts into DIR/models/<name>/ and call load",
    .details =
        "Resolves the model, extracts its latest artifact version (or NAME@vN) into\n"
        "DIR/models/<name>/, then calls A:load(local_path, opts). A model that does not\n"
        "exist yet is created from the adapter's defaults, and load receives an empty folder.",
    .needs_adapter = true,
    .requires = requires_load,
    .groups = adapter_groups,
    .run = rt_cmd_load,
};

static const rt_command cmd_save = {
    .name = "save",
    .usage = "ADAPTER.lua save [options]",
    .summary = "save_to_model: call save into a temp folder, pack it as a new artifact version",
    .details =
        "The model is loaded first (A:load, when defined), then A:save(tmpdir, opts) writes its\n"
        "files; they become version N+1 (artifacts/vN+1.tar.gz) with its sha256 in model.json.",
    .needs_adapter = true,
    .requires = requires_save,
    .groups = adapter_groups,
    .run = rt_cmd_save,
};

static const rt_command cmd_test = {
    .name = "test",
    .usage = "test [BUSTED-OPTION...] [SPEC...]",
    .summary = "run busted specs inside dlrun's LuaJIT, with the real dl package",
    .details =
        "Every argument goes to busted (its options are listed by 'busted --help').\n"
        "Without SPEC, busted runs ./spec. Examples:\n"
        "  dlrun test                       run ./spec/*_spec.lua\n"
        "  dlrun test spec/my_adapter_spec.lua\n"
        "  dlrun test -o TAP spec           TAP output, for CI",
    .groups = no_groups,
    .max_positional = -1,
    .passthrough = true,
    .run = rt_cmd_test,
};

static const rt_command cmd_run = {
    .name = "run",
    .usage = "run SCRIPT.lua [ARG...]",
    .summary = "run a Lua script inside dlrun's LuaJIT, with the dl package and native ops",
    .details =
        "The script sees its arguments in `arg` (arg[0] is the script) and as `...`.\n"
        "Errors show file:line and a traceback, and exit 1.",
    .groups = no_groups,
    .min_positional = 1,
    .max_positional = -1,
    .passthrough = true,
    .run = rt_cmd_run,
};

static const rt_option new_options[] = {
    {"template", 't', RT_OPT_VALUE, "KIND", "classifier (default), detector or embedder"},
    {"dir", 0, RT_OPT_VALUE, "DIR", "write into DIR (created if needed; default: the current folder)"},
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group new_group = {"Options", new_options};
static const rt_option_group *const new_groups[] = {&new_group, NULL};

static const rt_command cmd_new = {
    .name = "new",
    .usage = "new NAME [options]",
    .summary = "scaffold an adapter: NAME.lua, its spec, .luarc.json and a README",
    .details =
        "Writes NAME.lua (a working adapter of the chosen kind), spec/NAME_spec.lua (busted\n"
        "specs over dl.testing), README.md, .luarc.json (lua-language-server completion for\n"
        "the dl package) and samples/ (generated images). NAME.lua and its spec must not\n"
        "exist; a README.md, .luarc.json or sample that exists is kept. Then:\n"
        "  dlrun NAME.lua predict samples/    (embed for an embedder)\n"
        "  dlrun test",
    .groups = new_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = rt_cmd_new,
};

static const rt_option similar_options[] = {
    {"model", 'm', RT_OPT_VALUE, "NAME", "the model whose feature set to search (required)"},
    {"k", 'k', RT_OPT_VALUE, "N", "how many neighbours (default 10)"},
    {"vector", 0, RT_OPT_VALUE, "FILE", "query with this vector: a JSON array, or raw float32"},
    {"all", 0, RT_OPT_FLAG, NULL, "the neighbours of every vector, as JSON Lines"},
    {"json", 0, RT_OPT_FLAG, NULL, "print JSON instead of a table"},
    OPTION_HOME,
    {NULL, 0, 0, NULL, NULL},
};
static const rt_option_group similar_group = {"Options", similar_options};
static const rt_option_group *const similar_groups[] = {&similar_group, NULL};

static const rt_command cmd_similar = {
    .name = "similar",
    .usage = "similar --model NAME (ITEM | --vector FILE | --all) [options]",
    .summary = "top-k cosine neighbours in a model's feature set (after embed)",
    .details = "ITEM is an item id or its remote path (/test/00001.png); the item itself is left out.",
    .groups = similar_groups,
    .max_positional = 1,
    .run = rt_cmd_similar,
};

static const rt_command cmd_dataset_import = {
    .name = "dataset import",
    .usage = "dataset import fashion-mnist DEST | dataset import folder SRC DEST | dataset import shapes DEST",
    .summary = "import a dataset into the store's export layout",
    .details =
        "DEST is a dataset name (created under DIR/datasets/) or a path (when it holds a '/').\n"
        "fashion-mnist: PNG items with class ground truth in /train, /validation and /test,\n"
        "  from Debian's dataset-fashion-mnist package.\n"
        "folder: one class per subfolder of SRC (SRC/cat/a.jpg becomes /cat/a.jpg, class cat).\n"
        "shapes: synthetic 128x96 PNGs of rectangles, ellipses and triangles with exact box\n"
        "  ground truth, some on noisy backgrounds, some partly hidden by another shape, in\n"
        "  /train (200), /validation (50) and /test (100); the box example's dataset.\n"
        "The dataset appears only when the import is complete.",
    .groups = import_groups,
    .min_positional = 2,
    .max_positional = 3,
    .run = rt_cmd_dataset_import,
};

static const rt_command cmd_model_list = {
    .name = "model list",
    .usage = "model list [options]",
    .summary = "list the models in the store",
    .groups = store_groups,
    .run = rt_cmd_model_list,
};

static const rt_command cmd_model_show = {
    .name = "model show",
    .usage = "model show NAME [options]",
    .summary = "print a model entity (model.json)",
    .groups = store_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = rt_cmd_model_show,
};

static const rt_command cmd_model_create = {
    .name = "model create",
    .usage = "model create NAME [options]",
    .summary = "create an empty model entity",
    .groups = create_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = rt_cmd_model_create,
};

static const rt_command cmd_model_delete = {
    .name = "model delete",
    .usage = "model delete NAME [options]",
    .summary = "delete a model entity, its artifacts and its working copy",
    .groups = store_groups,
    .min_positional = 1,
    .max_positional = 1,
    .run = rt_cmd_model_delete,
};

const rt_command *const rt_commands[] = {
    &cmd_predict, &cmd_embed, &cmd_train, &cmd_evaluate, &cmd_load, &cmd_save,
    &cmd_new, &cmd_test, &cmd_run, &cmd_similar, &cmd_dataset_import,
    &cmd_model_list, &cmd_model_show, &cmd_model_create, &cmd_model_delete,
    NULL,
};
