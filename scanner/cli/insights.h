/*
 * insights.h - `tamis insights`: summarise tamisd analytics logs (JSON lines).
 */
#ifndef TM_CLI_INSIGHTS_H
#define TM_CLI_INSIGHTS_H

/*
 * tamis_insights_main - run `tamis insights [--html OUT] [--top N] LOG...`
 * with argv past the subcommand name. Returns the process exit status:
 * 0 on success, 2 on usage or I/O errors.
 */
int tamis_insights_main(int argc, char **argv);

#endif
