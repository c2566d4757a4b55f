/* Prints the bcrypt hash of a password, for web config files in tests:
 *   bcrypt_hash PASSWORD [COST] */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bcrypt_hash PASSWORD [COST]\n");
		return 2;
	}
	unsigned long cost = argc > 2 ? strtoul(argv[2], NULL, 10) : 10;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$2y$", cost, NULL, 0, salt, sizeof(salt))) {
		perror("crypt_gensalt_rn");
		return 1;
	}
	struct crypt_data data = {0};
	const char *h = crypt_r(argv[1], salt, &data);
	if (!h || h[0] == '*') {
		fprintf(stderr, "bcrypt_hash: hashing failed\n");
		return 1;
	}
	printf("%s\n", h);
	return 0;
}
