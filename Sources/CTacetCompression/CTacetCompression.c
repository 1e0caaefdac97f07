#include "CTacetCompression.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>

int tacet_deflate_init(z_stream *stream, int level, int windowBits, int memLevel) {
    // +16: a gzip header and trailer (RFC 1952), which is what Content-Encoding: gzip means.
    return deflateInit2(stream, level, Z_DEFLATED, windowBits + 16, memLevel, Z_DEFAULT_STRATEGY);
}

// The parts of zstd.h used here (stable API since 1.4.0).
typedef struct { const void *src; size_t size; size_t pos; } tacet_zstd_in;
typedef struct { void *dst; size_t size; size_t pos; } tacet_zstd_out;
enum { TACET_ZSTD_C_LEVEL = 100, TACET_ZSTD_C_WINDOWLOG = 101 };

static struct {
    void *(*createCCtx)(void);
    size_t (*freeCCtx)(void *);
    size_t (*setParameter)(void *, int, int);
    size_t (*setPledgedSrcSize)(void *, unsigned long long);
    size_t (*compressStream2)(void *, tacet_zstd_out *, tacet_zstd_in *, int);
    unsigned (*isError)(size_t);
    const char *(*getErrorName)(size_t);
    unsigned (*versionNumber)(void);
    int loaded;
} zstd;

static pthread_once_t zstdOnce = PTHREAD_ONCE_INIT;

static void zstd_load(void) {
    void *library = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) return;
    zstd.createCCtx = (void *(*)(void))dlsym(library, "ZSTD_createCCtx");
    zstd.freeCCtx = (size_t (*)(void *))dlsym(library, "ZSTD_freeCCtx");
    zstd.setParameter = (size_t (*)(void *, int, int))dlsym(library, "ZSTD_CCtx_setParameter");
    zstd.setPledgedSrcSize = (size_t (*)(void *, unsigned long long))dlsym(library, "ZSTD_CCtx_setPledgedSrcSize");
    zstd.compressStream2 = (size_t (*)(void *, tacet_zstd_out *, tacet_zstd_in *, int))dlsym(library, "ZSTD_compressStream2");
    zstd.isError = (unsigned (*)(size_t))dlsym(library, "ZSTD_isError");
    zstd.getErrorName = (const char *(*)(size_t))dlsym(library, "ZSTD_getErrorName");
    zstd.versionNumber = (unsigned (*)(void))dlsym(library, "ZSTD_versionNumber");
    if (zstd.createCCtx && zstd.freeCCtx && zstd.setParameter && zstd.setPledgedSrcSize && zstd.compressStream2
        && zstd.isError && zstd.getErrorName && zstd.versionNumber && zstd.versionNumber() >= 10400) {
        zstd.loaded = 1;
    }
}

int tacet_zstd_available(void) {
    pthread_once(&zstdOnce, zstd_load);
    return zstd.loaded;
}

unsigned tacet_zstd_version(void) {
    return tacet_zstd_available() ? zstd.versionNumber() : 0;
}

void *tacet_zstd_create(int level, int windowLog, long long pledgedSize) {
    if (!tacet_zstd_available()) return NULL;
    void *context = zstd.createCCtx();
    if (!context) return NULL;
    if (zstd.isError(zstd.setParameter(context, TACET_ZSTD_C_LEVEL, level))
        || zstd.isError(zstd.setParameter(context, TACET_ZSTD_C_WINDOWLOG, windowLog))
        || (pledgedSize >= 0 && zstd.isError(zstd.setPledgedSrcSize(context, (unsigned long long)pledgedSize)))) {
        zstd.freeCCtx(context);
        return NULL;
    }
    return context;
}

long long tacet_zstd_compress(void *context, const void *src, size_t srcSize, size_t *srcPos,
                              void *dst, size_t dstCapacity, size_t *dstPos, int mode,
                              const char **error) {
    tacet_zstd_in in = { src, srcSize, *srcPos };
    tacet_zstd_out out = { dst, dstCapacity, *dstPos };
    size_t result = zstd.compressStream2(context, &out, &in, mode);
    *srcPos = in.pos;
    *dstPos = out.pos;
    if (zstd.isError(result)) {
        *error = zstd.getErrorName(result);
        return -1;
    }
    return (long long)result;
}

void tacet_zstd_free(void *context) {
    if (context && zstd.loaded) zstd.freeCCtx(context);
}
