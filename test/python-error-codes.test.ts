import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '@berth/contracts';
import { expect, test } from 'vitest';

// The Python client installs on its own (pip install ./clients/python), so it carries a copy of
// the error catalogue; this keeps the copy equal to packages/contracts/src/errors.ts.
test("clients/python carries the contracts' error codes, statuses and retryability", () => {
  const copy = JSON.parse(readFileSync(join(import.meta.dirname, '../clients/python/src/berth/error_codes.json'), 'utf8')) as unknown;
  expect(copy, 'regenerate: node --import tsx -e "import {ERROR_CODES} from \'@berth/contracts\'; console.log(JSON.stringify(ERROR_CODES, null, 2))"').toEqual(
    ERROR_CODES,
  );
});
