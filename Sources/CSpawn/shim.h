#ifndef SORTIE_CSPAWN_SHIM_H
#define SORTIE_CSPAWN_SHIM_H
#include <spawn.h>

// glibc (2.34+) declares these only under _GNU_SOURCE, which Swift's Glibc module is built without.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
#endif
