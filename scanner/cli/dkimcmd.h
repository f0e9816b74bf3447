/*
 * dkimcmd.h - `tamis dkim sign|verify|keygen|record` and `tamis arc
 * seal|verify`: DKIM (RFC 6376, RFC 8463) and ARC (RFC 8617) from the
 * command line, over scanner/auth and scanner/dns.
 */
#ifndef TM_CLI_DKIMCMD_H
#define TM_CLI_DKIMCMD_H

/*
 * tamis_dkim_main - `tamis dkim ...`; argv[0] is the subcommand. Exit
 * status: verify 0 all signatures pass, 1 one does not, 3 there is none;
 * every subcommand 2 on a usage or I/O error (one line on stderr).
 */
int tamis_dkim_main(int argc, char **argv);

/* tamis_arc_main - `tamis arc seal|verify ...`; verify exits 0 pass, 1 fail, 3 none, 2 error */
int tamis_arc_main(int argc, char **argv);

#endif
