/*
 * findings.h - what hostile or broken input looked like. Parsers record a
 * finding and go on (Postfix's MIME_ERR_* bits); verdict scores them later.
 * The names are stable: they appear in the verdict JSON and in rules.
 */
#ifndef TM_CORE_FINDINGS_H
#define TM_CORE_FINDINGS_H

#define TM_FINDINGS(X)                                                                             \
    X(MESSAGE_TRUNCATED)      /* message_max_size reached, rest ignored */                         \
    X(MIME_LIMIT_DEPTH)       /* mime_max_depth reached, deeper parts kept as leaves */            \
    X(MIME_LIMIT_PARTS)       /* mime_max_parts reached, later parts folded into the last one */   \
    X(MIME_LIMIT_HEADERS)     /* mime_max_headers reached in one part */                           \
    X(MIME_LIMIT_HEADER_LEN)  /* a header longer than header_max_len was clipped */                \
    X(MIME_LIMIT_DECODED)     /* mime_max_decoded_size reached, decoding stopped */                \
    X(MIME_LIMIT_PARAMS)      /* mime_max_params reached in one header */                          \
    X(MIME_LIMIT_UU)          /* mime_max_uu_blocks reached */                                     \
    X(MIME_LIMIT_WORDS)       /* mime_max_encoded_words reached in one header */                   \
    X(MIME_LIMIT_ARENA)       /* task arena budget exhausted */                                    \
    X(MIME_NO_HEADERS)        /* message has no header section */                                  \
    X(MIME_HDR_NO_COLON)      /* a non-header line ended the header section */                     \
    X(MIME_HDR_8BIT)          /* raw 8-bit bytes in a header */                                    \
    X(MIME_HDR_LEADING_WS)    /* first header line is a continuation */                            \
    X(MIME_MIXED_EOL)         /* CRLF, bare LF and bare CR mixed */                                \
    X(MIME_BARE_CR)           /* bare CR used as a line end */                                     \
    X(MIME_NUL_BYTE)          /* NUL byte in the message */                                        \
    X(MIME_NO_BOUNDARY)       /* multipart without a boundary parameter */                         \
    X(MIME_BAD_BOUNDARY)      /* boundary too long, empty or with bad bytes */                     \
    X(MIME_BOUNDARY_NOT_FOUND) /* multipart whose boundary never occurs */                         \
    X(MIME_MISSING_CLOSE)     /* multipart not closed with --boundary-- */                         \
    X(MIME_DUP_CONTENT_TYPE)  /* several Content-Type headers in one part */                       \
    X(MIME_DUP_CTE)           /* several Content-Transfer-Encoding headers */                      \
    X(MIME_BAD_CONTENT_TYPE)  /* Content-Type that does not parse, default used */                 \
    X(MIME_BAD_CTE)           /* unknown Content-Transfer-Encoding, body taken as is */            \
    X(MIME_ENCODED_MULTIPART) /* multipart or message part with base64/QP encoding */              \
    X(MIME_BAD_B64)           /* junk bytes or bad padding in base64 */                            \
    X(MIME_BAD_QP)            /* invalid quoted-printable escape */                                \
    X(MIME_BAD_UU)            /* broken uuencode block */                                          \
    X(MIME_UUENCODE)          /* uuencoded block inside a text part */                             \
    X(MIME_BAD_2047)          /* RFC 2047 encoded word that could not be decoded */                \
    X(MIME_BAD_2231)          /* RFC 2231 parameter that could not be decoded */                   \
    X(MIME_BAD_CHARSET)       /* unknown charset or invalid bytes for it */                        \
    X(MIME_8BIT_IN_7BIT)      /* 8-bit bytes in a part declared 7bit */                            \
    X(MIME_PREAMBLE_TEXT)     /* visible text before the first boundary */                         \
    X(MIME_EPILOGUE_TEXT)     /* text after the closing boundary */                                \
    X(MIME_MSG_PARTIAL)       /* message/partial fragment */                                       \
    X(HTML_LIMIT_NODES)       /* html_max_nodes reached, rest of the part not parsed */            \
    X(HTML_LIMIT_DEPTH)       /* html_max_depth reached, deeper elements flattened */              \
    X(URL_LIMIT_COUNT)        /* text_max_uris reached, later URLs not collected */                \
    X(URL_LIMIT_LEN)          /* a URL longer than text_max_uri_len was cut */

enum tm_finding {
#define TM_FINDING_ENUM(n) TM_F_##n,
    TM_FINDINGS(TM_FINDING_ENUM)
#undef TM_FINDING_ENUM
    TM_F__COUNT
};

const char *tm_finding_name(enum tm_finding f);

#endif
