/*
 * Unit tests for files/: the path rules (one table row per request path, escapes and
 * non-regular files side by side with what must work), loaders under their stable names,
 * shared handles, reads, and the generated-file hook. Builds a scratch tree under /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "files/files.h"

static char base[64];     /* /tmp/pxfiles-XXXXXX */
static char rootdir[128]; /* base/root */
static char outside[128]; /* base/outside */
static bool have_dev;

static void put(const char *dir, const char *rel, const char *content)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void mk(const char *dir, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s%s", dir, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void sym(const char *target, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", rootdir, rel);
	assert_int_equal(symlink(target, p), 0);
}

static struct conf *make_conf(void)
{
	struct conf *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	snprintf(c->root, sizeof(c->root), "%s", rootdir);
	snprintf(c->loaders[CONF_ARCH_EFI64], sizeof(c->loaders[0]), "%s/ipxe.efi", outside);
	snprintf(c->loaders[CONF_ARCH_BIOS], sizeof(c->loaders[0]), "boot/undionly.kpxe");
	snprintf(c->loaders[CONF_ARCH_EFI64_HTTP], sizeof(c->loaders[0]), "http://x/ipxe.efi");
	return c;
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/pxfiles-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(rootdir, sizeof(rootdir), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	mk(rootdir, "");
	mk(outside, "");
	mk(rootdir, "/sub");
	mk(rootdir, "/boot");
	put(rootdir, "a.txt", "hello");
	put(rootdir, "sub/b.txt", "world");
	put(rootdir, "boot/undionly.kpxe", "UNDI");
	put(rootdir, "with space.txt", "sp");
	put(outside, "secret", "SECRET");
	put(outside, "ipxe.efi", "EFI!");
	put(outside, "other.efi", "NO");
	char p[512];
	snprintf(p, sizeof(p), "%s/fifo", rootdir);
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/dev", rootdir);
	have_dev = mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0;
	snprintf(p, sizeof(p), "%s/secret", outside);
	sym(p, "link_abs_out");
	sym("../outside/secret", "link_rel_out");
	sym("../outside", "link_dir_out");
	sym("a.txt", "link_in");
	sym("sub/../a.txt", "link_in_dots");
	sym("/proc/self/root/etc/passwd", "link_magic");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

struct path_row {
	const char *name;
	const char *path;
	int ret;
	const char *content; /* expected when ret == 0 */
};

static const struct path_row path_rows[] = {
	{"plain_file_is_served", "a.txt", 0, "hello"},
	{"leading_slash_is_stripped", "/a.txt", 0, "hello"},
	{"many_leading_slashes_are_stripped", "///a.txt", 0, "hello"},
	{"backslash_is_read_as_slash", "sub\\b.txt", 0, "world"},
	{"leading_backslash_is_stripped", "\\sub\\b.txt", 0, "world"},
	{"dotdot_that_stays_beneath_is_served", "sub/../a.txt", 0, "hello"},
	{"name_with_a_space_is_served", "with space.txt", 0, "sp"},
	{"symlink_inside_the_root_is_served", "link_in", 0, "hello"},
	{"symlink_with_dots_inside_the_root_is_served", "link_in_dots", 0, "hello"},
	{"relative_loader_is_served_under_its_path", "boot/undionly.kpxe", 0, "UNDI"},
	{"absolute_loader_is_served_under_its_basename", "ipxe.efi", 0, "EFI!"},
	{"absolute_loader_with_leading_slash_is_served", "/ipxe.efi", 0, "EFI!"},
	{"file_beside_an_absolute_loader_is_not_served", "other.efi", -ENOENT, NULL},
	{"missing_file_is_not_found", "nope", -ENOENT, NULL},
	{"empty_path_is_not_found", "", -ENOENT, NULL},
	{"root_itself_is_not_found", "/", -ENOENT, NULL},
	{"dotdot_etc_passwd_is_refused", "../etc/passwd", -EACCES, NULL},
	{"slash_dotdot_dotdot_etc_passwd_is_refused", "/../../etc/passwd", -EACCES, NULL},
	{"dotdot_through_a_subdirectory_is_refused", "sub/../../x", -EACCES, NULL},
	{"dotdot_through_a_missing_directory_is_not_found", "a/../../x", -ENOENT, NULL},
	{"backslash_dotdot_is_refused", "..\\..\\x", -EACCES, NULL},
	{"absolute_path_is_read_beneath_the_root", "/etc/passwd", -ENOENT, NULL},
	{"absolute_symlink_out_of_the_root_is_refused", "link_abs_out", -EACCES, NULL},
	{"relative_symlink_out_of_the_root_is_refused", "link_rel_out", -EACCES, NULL},
	{"directory_symlink_out_of_the_root_is_refused", "link_dir_out/secret", -EACCES, NULL},
	{"symlink_through_proc_is_refused", "link_magic", -EACCES, NULL},
	{"directory_is_refused", "sub", -EACCES, NULL},
	{"fifo_is_refused_without_blocking", "fifo", -EACCES, NULL},
	{"device_node_is_refused", "dev", -EACCES, NULL},
	{"name_of_a_file_as_a_directory_is_not_found", "a.txt/x", -ENOENT, NULL},
};

static void run_path_row(void **state)
{
	const struct path_row *r = *state;
	if (!strcmp(r->path, "dev") && !have_dev)
		skip();
	char err[256];
	struct conf *c = make_conf();
	struct files *f = files_new(c, err, sizeof(err));
	assert_non_null(f);
	struct files_handle *h = NULL;
	struct files_client who = {.proto = "tftp"};
	assert_int_equal(files_open(f, r->path, &who, &h), r->ret);
	if (r->ret == 0) {
		char buf[64] = "";
		size_t n = strlen(r->content);
		assert_int_equal(files_size(h), n);
		assert_int_equal(files_pread(h, buf, sizeof(buf), 0), (ssize_t)n);
		assert_memory_equal(buf, r->content, n);
		files_close(h);
	} else {
		assert_null(h);
	}
	assert_int_equal(files_open_count(f), 0);
	files_free(f);
	free(c);
}

static void test_long_names_are_refused_as_too_long(void **state)
{
	(void)state;
	char err[256];
	struct conf *c = make_conf();
	struct files *f = files_new(c, err, sizeof(err));
	static const size_t lens[] = {255, 512, 1024, 65000};
	static const int want[] = {-ENOENT, -ENOENT, -ENOENT, -ENAMETOOLONG};
	for (size_t i = 0; i < 4; i++) {
		char *p = malloc(lens[i] + 1);
		memset(p, 'a', lens[i]);
		p[lens[i]] = 0;
		struct files_handle *h;
		int r = files_open(f, p, NULL, &h);
		/* 255 bytes is a legal name that does not exist; 512/1024 are too long for
		 * one path component (the kernel says ENAMETOOLONG) or are not found */
		if (lens[i] > 255 && lens[i] <= FILES_PATH_MAX)
			assert_true(r == -ENOENT || r == -ENAMETOOLONG);
		else
			assert_int_equal(r, want[i]);
		free(p);
	}
	files_free(f);
	free(c);
}

static void test_one_handle_is_shared_by_every_reader_of_a_file(void **state)
{
	(void)state;
	char err[256];
	struct conf *c = make_conf();
	struct files *f = files_new(c, err, sizeof(err));
	struct files_handle *h1, *h2, *h3;
	assert_int_equal(files_open(f, "a.txt", NULL, &h1), 0);
	assert_int_equal(files_open(f, "/a.txt", NULL, &h2), 0);
	assert_int_equal(files_open(f, "link_in", NULL, &h3), 0);
	assert_ptr_equal(h1, h2);
	assert_ptr_equal(h1, h3);
	assert_int_equal(files_fd(h1), files_fd(h2));
	assert_int_equal(files_open_count(f), 1);
	files_close(h1);
	files_close(h2);
	assert_int_equal(files_open_count(f), 1);
	files_close(h3);
	assert_int_equal(files_open_count(f), 0);
	files_free(f);
	free(c);
}

static void test_replaced_file_gets_a_new_handle_and_old_readers_keep_theirs(void **state)
{
	(void)state;
	char err[256];
	struct conf *c = make_conf();
	struct files *f = files_new(c, err, sizeof(err));
	struct files_handle *h1, *h2;
	put(rootdir, "swap.txt", "old");
	assert_int_equal(files_open(f, "swap.txt", NULL, &h1), 0);
	put(rootdir, "swap.new", "new!");
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/swap.new", rootdir);
	snprintf(b, sizeof(b), "%s/swap.txt", rootdir);
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(files_open(f, "swap.txt", NULL, &h2), 0);
	assert_ptr_not_equal(h1, h2);
	char buf[8] = "";
	assert_int_equal(files_pread(h1, buf, sizeof(buf), 0), 3);
	assert_memory_equal(buf, "old", 3);
	assert_int_equal(files_pread(h2, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "new!", 4);
	files_close(h1);
	files_close(h2);
	files_free(f);
	free(c);
}

static void test_preadv_fills_vectors_and_stops_at_end_of_file(void **state)
{
	(void)state;
	char err[256];
	struct conf *c = make_conf();
	struct files *f = files_new(c, err, sizeof(err));
	struct files_handle *h;
	assert_int_equal(files_open(f, "a.txt", NULL, &h), 0);
	char x[2], y[10];
	struct iovec iov[2] = {{x, 2}, {y, 10}};
	assert_int_equal(files_preadv(h, iov, 2, 0), 5);
	assert_memory_equal(x, "he", 2);
	assert_memory_equal(y, "llo", 3);
	assert_int_equal(files_preadv(h, iov, 2, 4), 1);
	assert_int_equal(files_preadv(h, iov, 2, 100), 0);
	files_close(h);
	files_free(f);
	free(c);
}

static int gen_calls;
static int gen(void *arg, const char *path, const struct files_client *who, char **data,
	       size_t *len)
{
	(void)arg;
	gen_calls++;
	if (!strcmp(path, "deny"))
		return -EACCES;
	if (strcmp(path, "pxelinux.cfg/01-52-54-00-00-00-01"))
		return 0;
	assert_non_null(who);
	assert_int_equal(who->addr4, 0x0a000002);
	*data = strdup("DEFAULT linux\n");
	*len = strlen(*data);
	return 1;
}

static void test_generated_file_is_served_from_memory(void **state)
{
	(void)state;
	char err[256];
	struct conf *c = make_conf();
	struct files *f = files_new(c, err, sizeof(err));
	files_set_generator(f, gen, NULL);
	struct files_client who = {.proto = "tftp", .addr4 = 0x0a000002};
	struct files_handle *h;
	assert_int_equal(files_open(f, "\\pxelinux.cfg\\01-52-54-00-00-00-01", &who, &h), 0);
	assert_int_equal(files_size(h), 14);
	assert_int_equal(files_fd(h), -1);
	char buf[32] = "";
	char *p1 = buf, *p2 = buf + 7;
	struct iovec iov[2] = {{p1, 7}, {p2, 20}};
	assert_int_equal(files_preadv(h, iov, 2, 0), 14);
	assert_memory_equal(buf, "DEFAULT linux\n", 14);
	assert_int_equal(files_pread(h, buf, 4, 8), 4);
	assert_memory_equal(buf, "linu", 4);
	files_close(h);
	/* declined names fall through to the root; a refusal is passed on */
	assert_int_equal(files_open(f, "a.txt", &who, &h), 0);
	files_close(h);
	assert_int_equal(files_open(f, "deny", &who, &h), -EACCES);
	files_free(f);
	free(c);
}

static void test_missing_root_fails_with_a_message(void **state)
{
	(void)state;
	char err[256] = "";
	struct conf *c = make_conf();
	snprintf(c->root, sizeof(c->root), "%s/none", base);
	assert_null(files_new(c, err, sizeof(err)));
	assert_non_null(strstr(err, "none"));
	free(c);
}

static void test_reconfigure_switches_root_and_loaders(void **state)
{
	(void)state;
	char err[256];
	struct conf *c = make_conf();
	struct files *f = files_new(c, err, sizeof(err));
	struct files_handle *h;
	struct conf *c2 = make_conf();
	snprintf(c2->root, sizeof(c2->root), "%s", outside);
	c2->loaders[CONF_ARCH_EFI64][0] = 0;
	assert_int_equal(files_reconfigure(f, c2, err, sizeof(err)), 0);
	assert_int_equal(files_open(f, "secret", NULL, &h), 0);
	files_close(h);
	assert_int_equal(files_open(f, "a.txt", NULL, &h), -ENOENT);
	snprintf(c2->root, sizeof(c2->root), "%s/none", base);
	assert_true(files_reconfigure(f, c2, err, sizeof(err)) < 0);
	assert_int_equal(files_open(f, "secret", NULL, &h), 0); /* old root kept */
	files_close(h);
	files_free(f);
	free(c);
	free(c2);
}

static void test_handle_outlives_files_free(void **state)
{
	(void)state;
	char err[256];
	struct conf *c = make_conf();
	struct files *f = files_new(c, err, sizeof(err));
	struct files_handle *h;
	assert_int_equal(files_open(f, "a.txt", NULL, &h), 0);
	files_free(f);
	char buf[8];
	assert_int_equal(files_pread(h, buf, sizeof(buf), 0), 5);
	files_close(h);
	free(c);
}

static void test_normalize_strips_and_converts(void **state)
{
	(void)state;
	char b[8];
	assert_int_equal(files_normalize("\\/a\\b", b, sizeof(b)), 0);
	assert_string_equal(b, "a/b");
	assert_int_equal(files_normalize("12345678", b, sizeof(b)), -ENAMETOOLONG);
	assert_int_equal(files_normalize("1234567", b, sizeof(b)), 0);
}

int main(void)
{
	static struct CMUnitTest tests[128];
	size_t n = 0;
#define ROWS(arr, fn)                                                                              \
	for (size_t i_ = 0; i_ < sizeof(arr) / sizeof((arr)[0]); i_++)                             \
		tests[n++] = (struct CMUnitTest){(arr)[i_].name, fn, NULL, NULL, (void *)&(arr)[i_]};
#define ONE(fn) (tests[n++] = (struct CMUnitTest){#fn, fn, NULL, NULL, NULL})
	ROWS(path_rows, run_path_row);
	ONE(test_long_names_are_refused_as_too_long);
	ONE(test_one_handle_is_shared_by_every_reader_of_a_file);
	ONE(test_replaced_file_gets_a_new_handle_and_old_readers_keep_theirs);
	ONE(test_preadv_fills_vectors_and_stops_at_end_of_file);
	ONE(test_generated_file_is_served_from_memory);
	ONE(test_missing_root_fails_with_a_message);
	ONE(test_reconfigure_switches_root_and_loaders);
	ONE(test_handle_outlives_files_free);
	ONE(test_normalize_strips_and_converts);
	return _cmocka_run_group_tests("files", tests, n, setup, teardown);
}
