#ifndef CTACET_COMPRESSION_H
#define CTACET_COMPRESSION_H

#include <stddef.h>
#include <zlib.h>
#include <brotli/encode.h>

/// deflateInit2 is a macro; Swift calls this instead. `windowBits` 9...15 (gzip framing added
/// here), `memLevel` 1...9. Returns zlib's code.
int tacet_deflate_init(z_stream *stream, int level, int windowBits, int memLevel);

/// zstd through dlopen(3) of libzstd.so.1: Debian ships the library on every machine (dpkg needs
/// it) but its headers only in libzstd-dev, so Tacet declares the few stable functions it uses
/// itself. 1 when the library was found (looked up once), else 0.
int tacet_zstd_available(void);
/// The library's version, e.g. 10504 for 1.5.4; 0 without it.
unsigned tacet_zstd_version(void);
/// A compression context at `level`, its window capped at 2^windowLog; `pledgedSize` is the
/// input's length when known, else -1. NULL without the library or on failure.
void *tacet_zstd_create(int level, int windowLog, long long pledgedSize);
/// One ZSTD_compressStream2 call. `mode`: 0 continue, 1 flush, 2 end. Consumes from `src` and
/// produces into `dst`, advancing `*srcPos` and `*dstPos`. Returns what is left to flush (0:
/// done with this mode), or -1 on an error (its name in `*error`).
long long tacet_zstd_compress(void *context, const void *src, size_t srcSize, size_t *srcPos,
                              void *dst, size_t dstCapacity, size_t *dstPos, int mode,
                              const char **error);
void tacet_zstd_free(void *context);

#endif
