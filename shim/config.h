/* The configuration in force (config.c reads it at load; the contract,
 * names, limits and parser: config_parse.h). */
#ifndef NORST_CONFIG_H
#define NORST_CONFIG_H

#include "config_parse.h"

extern struct norst_config norst_cfg;
void config_load(void);

#endif
