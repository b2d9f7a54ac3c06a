/* commands.h — the functions that run each command (one file each). */
#ifndef RT_COMMANDS_H
#define RT_COMMANDS_H

#include "cli.h"

int rt_cmd_test(const rt_args *args);
int rt_cmd_load(const rt_args *args);
int rt_cmd_predict(const rt_args *args);
int rt_cmd_embed(const rt_args *args);
int rt_cmd_train(const rt_args *args);
int rt_cmd_evaluate(const rt_args *args);
int rt_cmd_similar(const rt_args *args);
int rt_cmd_save(const rt_args *args);
int rt_cmd_model_list(const rt_args *args);
int rt_cmd_model_show(const rt_args *args);
int rt_cmd_model_create(const rt_args *args);
int rt_cmd_model_delete(const rt_args *args);
int rt_cmd_run(const rt_args *args);
int rt_cmd_new(const rt_args *args);
int rt_cmd_dataset_import(const rt_args *args);

#endif
