/* A minimal JSON writer: strings, valid UTF-8 or base64, for --json output. */

#include <stdio.h>
#include <string.h>

#include "cli.h"

/*
 * Whether s holds well-formed UTF-8 (RFC 3629): no overlong forms, no
 * surrogates, nothing above U+10FFFF.  NUL bytes are allowed; JSON
 * escapes them.
 */
int
json_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, need, k;
	unsigned long cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[i] & 0x07;
		} else
			return (0);
		if (n - i <= need)
			return (0);
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		i += need + 1;
	}
	return (1);
}

/* Write s (valid UTF-8) as a JSON string. */
void
json_string(FILE *fp, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;
	size_t i;

	putc('"', fp);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fputs("\\u00", fp);
				putc(hex[c >> 4], fp);
				putc(hex[c & 0xf], fp);
			} else
				putc(c, fp);
		}
	}
	putc('"', fp);
}

/* Write NUL-terminated s as a JSON string, or null. */
void
json_cstring(FILE *fp, const char *s)
{
	if (s == NULL)
		fputs("null", fp);
	else
		json_string(fp, s, strlen(s));
}

/* Write bytes as a JSON string of their base64 (RFC 4648). */
void
json_base64(FILE *fp, const unsigned char *s, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned long v;
	size_t i;

	putc('"', fp);
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 |
		    s[i + 2];
		putc(b64[v >> 18 & 63], fp);
		putc(b64[v >> 12 & 63], fp);
		putc(b64[v >> 6 & 63], fp);
		putc(b64[v & 63], fp);
	}
	if (n - i == 1) {
		v = (unsigned long)s[i] << 16;
		putc(b64[v >> 18 & 63], fp);
		putc(b64[v >> 12 & 63], fp);
		fputs("==", fp);
	} else if (n - i == 2) {
		v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8;
		putc(b64[v >> 18 & 63], fp);
		putc(b64[v >> 12 & 63], fp);
		putc(b64[v >> 6 & 63], fp);
		putc('=', fp);
	}
	putc('"', fp);
}

/*
 * Write a value as "name":"text" when it is UTF-8, else as
 * "name_base64":"...".
 */
void
json_value(FILE *fp, const char *name, const char *s, size_t n)
{
	if (json_utf8_valid((const unsigned char *)s, n)) {
		fprintf(fp, ",\"%s\":", name);
		json_string(fp, s, n);
	} else {
		fprintf(fp, ",\"%s_base64\":", name);
		json_base64(fp, (const unsigned char *)s, n);
	}
}

/* ,"name":v with the decimals given, or null when v is not known (< 0). */
void
json_number(FILE *fp, const char *name, double v, int decimals)
{
	if (v < 0)
		fprintf(fp, ",\"%s\":null", name);
	else
		fprintf(fp, ",\"%s\":%.*f", name, decimals, v);
}
