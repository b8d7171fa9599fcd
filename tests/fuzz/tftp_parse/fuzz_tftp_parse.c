/*
 * libFuzzer target for the TFTP request parser and everything that follows from a request
 * without I/O: option negotiation against a few limit sets, the OACK and ERROR builders,
 * transfer-packet parsing and path normalisation of the file name.
 * Seeds: tests/fuzz/tftp_parse/corpus/ (the vectors' TFTP packets, via extract_seeds.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files/files.h"
#include "tftp/tftp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tftp_limits lims[] = {{512, 1}, {1468, 64}, {65464, 65535}, {8, 1}};
	struct tftp_request req;
	struct tftp_packet pkt;

	if (tftp_parse_request(data, size, &req) == 0) {
		if (req.file_len > size || req.file[req.file_len] != 0)
			abort();
		for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
			struct tftp_params p;
			uint8_t oack[TFTP_OACK_MAX];
			tftp_negotiate(&req.opt, &lims[i], size, &p);
			if (p.blksize < TFTP_BLKSIZE_MIN || p.blksize > lims[i].blksize_max + 512u ||
			    p.windowsize < 1 || p.windowsize > lims[i].windowsize_max)
				abort();
			int n = tftp_build_oack(oack, sizeof(oack), &p);
			if (p.oack ? n <= 2 : n != 2)
				abort();
		}
		char norm[FILES_PATH_MAX + 1];
		files_normalize(req.file, norm, sizeof(norm));
	}
	if (tftp_parse_packet(data, size, &pkt) == 0) {
		if (pkt.data_len > size || pkt.msg_len > size)
			abort();
		uint8_t err[TFTP_ERROR_MAX];
		if (tftp_build_error(err, sizeof(err), pkt.error_code, NULL) <= 4)
			abort();
	}
	return 0;
}
