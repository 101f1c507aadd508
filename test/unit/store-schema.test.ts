/**
 * The store's row types come from its migrations: store/schema.generated.ts is what
 * `npm run gen:store-schema` makes of them, and a column added by a migration appears there
 * with its type.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MIGRATIONS } from '../../store/index.ts';
import { DATABASES, GENERATED_PATH, enumChecks, generateSchemaModule } from '../../store/schema-gen.ts';

void describe('store/schema.generated.ts', () => {
  void it('is up to date with the migrations', () => {
    assert.equal(
      readFileSync(GENERATED_PATH, 'utf8'),
      generateSchemaModule(),
      'store/schema.generated.ts is stale: run `npm run gen:store-schema` and commit the result',
    );
  });

  void it('gives a column added by a new migration its type, an enum from its CHECK constraint', () => {
    const withTags = [
      ...MIGRATIONS,
      {
        id: MIGRATIONS.length + 1,
        name: 'episode_rating',
        sql: `ALTER TABLE episodes ADD COLUMN rating TEXT CHECK (rating IN ('good', 'bad', 'it''s fine'));
              ALTER TABLE episodes ADD COLUMN reviewed_at INTEGER NOT NULL DEFAULT 0;`,
      },
    ];
    const text = generateSchemaModule([{ what: 'test', migrations: withTags }]);
    const episodes = /\n {2}episodes: z\.object\(\{\n([^]*?)\n {2}\}\),/.exec(text)?.[1] ?? '';
    assert.match(episodes, /\n {4}rating: z\.enum\(\['good', 'bad', 'it\\'s fine'\]\)\.nullable\(\),/);
    assert.match(episodes, /\n {4}reviewed_at: z\.number\(\)\.int\(\),$/);
    assert.match(text, /after migration \d+ episode_rating/);
    assert.ok(!generateSchemaModule(DATABASES).includes('rating'), 'the real schema has no such column');
  });

  void it('reads the enum values of CHECK constraints, nullable or not', () => {
    const checks = enumChecks(`CREATE TABLE t (
      a TEXT NOT NULL CHECK (a IN ('x', 'y')),
      b TEXT,
      CHECK (b IS NULL OR b IN ('p','q', 'r')),
      c INTEGER CHECK (c >= 1)
    )`);
    assert.deepEqual(Object.fromEntries(checks), { a: ['x', 'y'], b: ['p', 'q', 'r'] });
  });
});
