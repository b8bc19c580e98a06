/* sniff.c — see sniff.h. */
#include "sniff.h"

#include <string.h>

struct sig {
	size_t off;
	const char *magic;
	size_t len;
	const char *type;
};

#define SIG(off, m, t) { off, m, sizeof(m) - 1, t }

static const struct sig sigs[] = {
	SIG(0, "\x89PNG\r\n\x1a\n", "image/png"),
	SIG(0, "\xff\xd8\xff", "image/jpeg"),
	SIG(0, "GIF87a", "image/gif"),
	SIG(0, "GIF89a", "image/gif"),
	SIG(0, "BM", "image/bmp"),
	SIG(0, "II*\0", "image/tiff"),
	SIG(0, "MM\0*", "image/tiff"),
	SIG(0, "\0\0\1\0", "image/x-icon"),
	SIG(0, "MZ", "application/x-msdownload"),
	SIG(0, "\x7f" "ELF", "application/x-executable"),
	SIG(0, "#!", "text/x-shellscript"),
	SIG(0, "PK\3\4", "application/zip"),
	SIG(0, "PK\5\6", "application/zip"),
	SIG(0, "Rar!\x1a\x07", "application/vnd.rar"),
	SIG(0, "7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
	SIG(0, "\x1f\x8b", "application/gzip"),
	SIG(0, "BZh", "application/x-bzip2"),
	SIG(0, "\xfd" "7zXZ\0", "application/x-xz"),
	SIG(257, "ustar", "application/x-tar"),
	SIG(0, "MSCF", "application/vnd.ms-cab-compressed"),
	SIG(0, "%PDF-", "application/pdf"),
	SIG(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
	SIG(0, "{\\rtf", "application/rtf"),
	SIG(0, "\xca\xfe\xba\xbe", "application/java-vm"),
	SIG(8, "WEBP", "image/webp"),
};

const char *sniff_type(const void *data, size_t len)
{
	const unsigned char *d = data;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		const struct sig *s = &sigs[i];
		if (len >= s->off + s->len &&
		    memcmp(d + s->off, s->magic, s->len) == 0) {
			/* "BM" and "MZ" are short: demand a plausible header. */
			if (strcmp(s->type, "image/bmp") == 0 &&
			    (len < 26 || d[14] == 0))
				continue;
			if (strcmp(s->type, "image/webp") == 0 &&
			    memcmp(d, "RIFF", 4) != 0)
				continue;
			return s->type;
		}
	}
	return NULL;
}

static bool prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

bool sniff_mismatch(const char *declared, const char *detected)
{
	if (detected == NULL)
		return false;
	/* Generic declarations promise nothing. */
	if (declared[0] == '\0' || strcmp(declared, "application/octet-stream") == 0)
		return false;
	if (prefix(detected, "image/"))
		return !prefix(declared, "image/");
	if (strcmp(detected, "application/x-msdownload") == 0 ||
	    strcmp(detected, "application/x-executable") == 0)
		return !(prefix(declared, "application/x-ms") ||
		         strstr(declared, "exe") != NULL ||
		         strstr(declared, "executable") != NULL);
	if (strcmp(detected, "application/zip") == 0)
		/* Office documents and jars are zip files. */
		return !(strstr(declared, "zip") || strstr(declared, "office") ||
		         strstr(declared, "openxml") || strstr(declared, "java") ||
		         strstr(declared, "opendocument") ||
		         strstr(declared, "compressed"));
	if (strcmp(detected, "application/pdf") == 0)
		return strstr(declared, "pdf") == NULL;
	return false;
}
