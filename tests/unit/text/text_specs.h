/*
 * text_specs.h - the header specs the goldens carry (same list and order as
 * @SPECS in sa_targets.pl), mapped to tm_text_header() arguments.
 */
#ifndef TM_TESTS_TEXT_SPECS_H
#define TM_TESTS_TEXT_SPECS_H

#include "text/text.h"

struct tm_text_spec {
    const char *spec; /* as SpamAssassin writes it */
    enum tm_text_hdr_kind kind;
    const char *name;
    unsigned mods; /* TM_HDRMOD_* values */
};

/* rules.h values: RAW 1, ADDR 2, NAME 4, FIRST 0x20, LAST 0x40 */
static const struct tm_text_spec tm_text_specs[] = {
    {"Subject", TM_TEXT_HDR_NAMED, "Subject", 0},
    {"From", TM_TEXT_HDR_NAMED, "From", 0},
    {"To", TM_TEXT_HDR_NAMED, "To", 0},
    {"Cc", TM_TEXT_HDR_NAMED, "Cc", 0},
    {"ToCc", TM_TEXT_HDR_TOCC, NULL, 0},
    {"ALL", TM_TEXT_HDR_ALL, NULL, 0},
    {"MESSAGEID", TM_TEXT_HDR_MESSAGEID, NULL, 0},
    {"From:addr", TM_TEXT_HDR_NAMED, "From", 2},
    {"From:name", TM_TEXT_HDR_NAMED, "From", 4},
    {"To:addr", TM_TEXT_HDR_NAMED, "To", 2},
    {"Cc:addr", TM_TEXT_HDR_NAMED, "Cc", 2},
    {"Reply-To:addr", TM_TEXT_HDR_NAMED, "Reply-To", 2},
    {"Sender:addr", TM_TEXT_HDR_NAMED, "Sender", 2},
    {"Return-Path:addr", TM_TEXT_HDR_NAMED, "Return-Path", 2},
    {"Subject:raw", TM_TEXT_HDR_NAMED, "Subject", 1},
    {"From:raw", TM_TEXT_HDR_NAMED, "From", 1},
    {"To:raw", TM_TEXT_HDR_NAMED, "To", 1},
    {"Content-Type", TM_TEXT_HDR_NAMED, "Content-Type", 0},
    {"X-Mailer", TM_TEXT_HDR_NAMED, "X-Mailer", 0},
    {"Message-Id", TM_TEXT_HDR_NAMED, "Message-Id", 0},
    {"Date", TM_TEXT_HDR_NAMED, "Date", 0},
    {"Received", TM_TEXT_HDR_NAMED, "Received", 0},
    {"References", TM_TEXT_HDR_NAMED, "References", 0},
    {"List-Id", TM_TEXT_HDR_NAMED, "List-Id", 0},
    {"From:first", TM_TEXT_HDR_NAMED, "From", 0x20},
    {"From:last", TM_TEXT_HDR_NAMED, "From", 0x40},
    {"Received:first", TM_TEXT_HDR_NAMED, "Received", 0x20},
    {"Received:last", TM_TEXT_HDR_NAMED, "Received", 0x40},
};

#define TM_TEXT_NSPECS (sizeof(tm_text_specs) / sizeof(tm_text_specs[0]))

#endif
