/* store_attribution.c - message_attribution rows and the supplier_drift
 * view (the attribution step of the migrations in store.c). */
#include "store/store_attribution.h"

#include <errno.h>
#include <stdlib.h>

#include "store/store_internal.h"

int store_attribution_record(struct store *store, int64_t msg_row,
			     const struct parse_result *r)
{
	char *supplier = parse_result_supplier_id(r);
	if (!supplier || !r->attributed_by) {
		free(supplier);
		return 0;
	}
	static const char sql[] =
		"INSERT OR REPLACE INTO message_attribution (message_row, "
		"supplier, attributed_by, template_drift, decided_at) "
		"VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(store, sql);
	if (!st) {
		free(supplier);
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, msg_row);
	store_bind_text(st, 2, supplier);
	store_bind_text(st, 3, r->attributed_by);
	sqlite3_bind_int(st, 4, r->template_drift ? 1 : 0);
	sqlite3_bind_int64(st, 5, store_now());
	int rc = store_step_done(store, st);
	free(supplier);
	return rc;
}
