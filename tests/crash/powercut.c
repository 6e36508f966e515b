/* A power cut for the crash test: LD_PRELOAD into the terminal process under test.
 *
 * For each file whose path ends with one of $POWERCUT_FILES (colon-separated, e.g.
 * "/terminal.db:/terminal.db-wal": the store and its WAL),
 * every write is preceded by an undo record (the bytes it overwrites) appended to "<file>.undo",
 * and every fsync/fdatasync of the file empties that log: what is in the undo log is exactly what
 * the disk may not have kept.  After SIGKILL the harness applies the undo records in reverse
 * (tests/crash/powercut.py) and the files hold what a power cut at that instant would have left:
 * nothing written since the last sync (the worst case a disk is allowed).
 *
 * Record layout (little endian): 'Z' u64 size (first record after a sync: the file size then),
 * 'W' u64 offset u64 length, then the old bytes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 4096
#define MAX_FILES 8

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char files[MAX_FILES][4096];
static int n_files = -1;
static int tracked[MAX_FD];  /* fd -> index + 1 into files, 0 = not tracked */
static int undo_fd[MAX_FILES];
static int dirty[MAX_FILES];  /* a 'Z' record was written since the last sync */

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void init(void) {
    if (n_files >= 0) return;
    real_open = dlsym(RTLD_NEXT, "open");
    real_open64 = dlsym(RTLD_NEXT, "open64");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_openat64 = dlsym(RTLD_NEXT, "openat64");
    real_close = dlsym(RTLD_NEXT, "close");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_write = dlsym(RTLD_NEXT, "write");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    n_files = 0;
    const char *env = getenv("POWERCUT_FILES");
    if (env == NULL) return;
    const char *p = env;
    while (*p && n_files < MAX_FILES) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0 && len < sizeof files[0]) {
            memcpy(files[n_files], p, len);
            files[n_files][len] = 0;
            undo_fd[n_files] = -1;
            n_files++;
        }
        if (!end) break;
        p = end + 1;
    }
}

static void full_write(int fd, const void *buf, size_t n) {
    const char *b = buf;
    while (n > 0) {
        ssize_t w = real_write(fd, b, n);
        if (w <= 0) {
            if (w < 0 && errno == EINTR) continue;
            abort(); /* the undo log must not be incomplete: fail loudly */
        }
        b += w;
        n -= (size_t)w;
    }
}

static void track(int fd, const char *path) {
    if (fd < 0 || fd >= MAX_FD || path == NULL) return;
    tracked[fd] = 0;
    for (int i = 0; i < n_files; i++) {
        size_t lp = strlen(path), lf = strlen(files[i]);
        if (lp >= lf && strcmp(path + lp - lf, files[i]) == 0) {
            pthread_mutex_lock(&lock);
            tracked[fd] = i + 1;
            if (undo_fd[i] < 0) {
                char name[4200];
                if (strlen(path) > 4000) abort();
                strcpy(name, path);
                strcat(name, ".undo");
                undo_fd[i] = real_open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
                if (undo_fd[i] < 0) abort();
                struct stat st;
                dirty[i] = (fstat(undo_fd[i], &st) == 0 && st.st_size > 0);
            }
            pthread_mutex_unlock(&lock);
            return;
        }
    }
}

/* Save what [off, off + n) holds now (and the size at the last sync) before it is overwritten. */
static void save(int fd, off_t off, size_t n) {
    int i = tracked[fd] - 1;
    struct stat st;
    if (fstat(fd, &st) != 0) abort();
    if (!dirty[i]) {
        char rec[9] = {'Z'};
        uint64_t size = (uint64_t)st.st_size;
        memcpy(rec + 1, &size, 8);
        full_write(undo_fd[i], rec, sizeof rec);
        dirty[i] = 1;
    }
    if (off >= st.st_size) return;
    if ((off_t)(off + n) > st.st_size) n = (size_t)(st.st_size - off);
    char *old = malloc(n ? n : 1);
    if (old == NULL) abort();
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, old + got, n - got, off + (off_t)got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            break;
        }
        got += (size_t)r;
    }
    char rec[17] = {'W'};
    uint64_t o = (uint64_t)off, len = (uint64_t)got;
    memcpy(rec + 1, &o, 8);
    memcpy(rec + 9, &len, 8);
    full_write(undo_fd[i], rec, sizeof rec);
    full_write(undo_fd[i], old, got);
    free(old);
}

static int is_tracked(int fd) { return fd >= 0 && fd < MAX_FD && tracked[fd] > 0; }

static void synced(int fd) {
    int i = tracked[fd] - 1;
    if (ftruncate(undo_fd[i], 0) != 0) abort(); /* our own ftruncate: not tracked */
    dirty[i] = 0;
}

#define OPEN_MODE(flags, mode)            \
    mode_t mode = 0;                      \
    if ((flags) & (O_CREAT | O_TMPFILE)) { \
        va_list ap;                       \
        va_start(ap, flags);              \
        mode = va_arg(ap, mode_t);        \
        va_end(ap);                       \
    }

int open(const char *path, int flags, ...) {
    init();
    OPEN_MODE(flags, mode);
    int fd = real_open(path, flags, mode);
    track(fd, path);
    return fd;
}

int open64(const char *path, int flags, ...) {
    init();
    OPEN_MODE(flags, mode);
    int fd = real_open64(path, flags, mode);
    track(fd, path);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...) {
    init();
    OPEN_MODE(flags, mode);
    int fd = real_openat(dirfd, path, flags, mode);
    track(fd, path);
    return fd;
}

int openat64(int dirfd, const char *path, int flags, ...) {
    init();
    OPEN_MODE(flags, mode);
    int fd = real_openat64(dirfd, path, flags, mode);
    track(fd, path);
    return fd;
}

int close(int fd) {
    init();
    if (fd >= 0 && fd < MAX_FD) tracked[fd] = 0;
    return real_close(fd);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    init();
    if (!is_tracked(fd)) return real_pwrite(fd, buf, n, off);
    pthread_mutex_lock(&lock);
    save(fd, off, n);
    ssize_t r = real_pwrite(fd, buf, n, off);
    pthread_mutex_unlock(&lock);
    return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
    init();
    if (!is_tracked(fd)) return real_pwrite64(fd, buf, n, off);
    pthread_mutex_lock(&lock);
    save(fd, off, n);
    ssize_t r = real_pwrite64(fd, buf, n, off);
    pthread_mutex_unlock(&lock);
    return r;
}

ssize_t write(int fd, const void *buf, size_t n) {
    init();
    if (!is_tracked(fd)) return real_write(fd, buf, n);
    pthread_mutex_lock(&lock);
    save(fd, lseek(fd, 0, SEEK_CUR), n);
    ssize_t r = real_write(fd, buf, n);
    pthread_mutex_unlock(&lock);
    return r;
}

static int truncate_tracked(int (*real)(int, off_t), int fd, off_t length) {
    if (!is_tracked(fd)) return real(fd, length);
    pthread_mutex_lock(&lock);
    struct stat st;
    if (fstat(fd, &st) != 0) abort();
    save(fd, length, st.st_size > length ? (size_t)(st.st_size - length) : 0);
    int r = real(fd, length);
    pthread_mutex_unlock(&lock);
    return r;
}

int ftruncate(int fd, off_t length) {
    init();
    return truncate_tracked(real_ftruncate, fd, length);
}

int ftruncate64(int fd, off_t length) {
    init();
    return truncate_tracked(real_ftruncate64, fd, length);
}

int fsync(int fd) {
    init();
    int r = real_fsync(fd);
    if (r == 0 && is_tracked(fd)) {
        pthread_mutex_lock(&lock);
        synced(fd);
        pthread_mutex_unlock(&lock);
    }
    return r;
}

int fdatasync(int fd) {
    init();
    int r = real_fdatasync(fd);
    if (r == 0 && is_tracked(fd)) {
        pthread_mutex_lock(&lock);
        synced(fd);
        pthread_mutex_unlock(&lock);
    }
    return r;
}
