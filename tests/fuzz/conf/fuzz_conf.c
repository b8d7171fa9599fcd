/* libFuzzer target: the config loader must reject or accept any text without crashing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	char err[2048];
	struct conf *c = conf_load_string(text, "fuzz.conf", err, sizeof(err));
	if (c)
		(void)conf_loader_name(c, CONF_ARCH_BIOS);
	conf_free(c);
	free(text);
	return 0;
}
