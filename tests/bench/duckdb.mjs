// duckdb.mjs - the benchmark's peer: what an analyst would write in SQL.
//
// Usage: node duckdb.mjs USAGE.csv PRICES.json [YYYY-MM]
//
// Reads the usage CSV once with DuckDB's read_csv (header, explicit column
// types, no sniffing), on one thread, and computes in one pass
//   GPU-seconds inside the month x GPUs x hourly rate, per customer/sku/market
//   tokens x rate per million (x (1 - batch discount)), per customer/model
// with the rates in a small join table built from the pricing table's flat
// prices: on-demand and spot per (version, sku, region), the region "*"
// entry as the fallback, the price version chosen by the record's start,
// and a tiered price taken at its first tier.  No dedup, no minimum billed
// seconds, no spot price changes, no reservations, contracts or rounding:
// far less than gpubill does, which is what makes it the peer to beat.
//
// Prints one line: duckdb_seconds=S rows=N groups=G total=T version=V
// where S is the wall time of the query alone (after DuckDB is loaded and
// the rates table is built), so node's start-up is not charged to DuckDB.

import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [csvPath, pricesPath, month = '2026-10'] = process.argv.slice(2);
if (!csvPath || !pricesPath || !/^\d{4}-\d{2}$/.test(month)) {
  console.error('usage: node duckdb.mjs USAGE.csv PRICES.json [YYYY-MM]');
  process.exit(2);
}

const [y, m] = month.split('-').map(Number);
const from = `${month}-01 00:00:00`;
const to = m === 12 ? `${y + 1}-01-01 00:00:00`
  : `${y}-${String(m + 1).padStart(2, '0')}-01 00:00:00`;

// Prices are decimal strings; a tier object counts at its first tier.
const flat = (p) => (typeof p === 'string' ? p : p.tiers[0].price);
const sql = (s) => `'${String(s).replaceAll("'", "''")}'`;
const ts = (s) => sql(s.replace('T', ' ').replace('Z', ''));

const table = JSON.parse(readFileSync(pricesPath, 'utf8'));
const gpuRows = [];
const tokenRows = [];
const versionCase = [];
table.versions.forEach((v, i) => {
  versionCase.push(`WHEN start >= ${ts(v.effective_from)} THEN ${i}`);
  for (const r of v.gpu?.rates ?? []) {
    gpuRows.push(`(${i}, ${sql(r.sku)}, ${sql(r.region)}, 'on_demand', ${flat(r.on_demand)})`);
    gpuRows.push(`(${i}, ${sql(r.sku)}, ${sql(r.region)}, 'spot', ${flat(r.spot)})`);
  }
  const bd = v.tokens?.batch_discount ?? '0';
  for (const r of v.tokens?.rates ?? []) {
    tokenRows.push(`(${i}, ${sql(r.model)}, ${flat(r.input)}, ${flat(r.cached_input)}, ` +
                   `${flat(r.output)}, ${bd})`);
  }
});
versionCase.reverse();

const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
await db.run('SET threads = 1');
await db.run(`CREATE TABLE gpu_rates (version INTEGER, sku VARCHAR, region VARCHAR,
  market VARCHAR, price DECIMAL(12, 6))`);
await db.run(`INSERT INTO gpu_rates VALUES ${gpuRows.join(', ')}`);
await db.run(`CREATE TABLE token_rates (version INTEGER, model VARCHAR,
  input DECIMAL(12, 6), cached_input DECIMAL(12, 6), output DECIMAL(12, 6),
  batch_discount DECIMAL(12, 6))`);
await db.run(`INSERT INTO token_rates VALUES ${tokenRows.join(', ')}`);

const query = `
WITH usage AS (
  SELECT *, CASE ${versionCase.join(' ')} ELSE NULL END AS version,
         coalesce(market, 'on_demand') AS mkt
  FROM read_csv(${sql(csvPath)}, header = true, auto_detect = false,
    delim = ',', quote = '"', escape = '"',
    columns = {'id': 'VARCHAR', 'customer': 'VARCHAR', 'type': 'VARCHAR',
      'start': 'TIMESTAMP', 'end': 'TIMESTAMP', 'sku': 'VARCHAR',
      'region': 'VARCHAR', 'gpus': 'INTEGER', 'market': 'VARCHAR',
      'interrupted': 'BOOLEAN', 'model': 'VARCHAR', 'input_tokens': 'BIGINT',
      'cached_tokens': 'BIGINT', 'output_tokens': 'BIGINT', 'batch': 'BOOLEAN'})
)
SELECT u.customer, u.type,
       CASE WHEN u.type = 'gpu' THEN u.sku ELSE u.model END AS item,
       CASE WHEN u.type = 'gpu' THEN u.mkt END AS market,
       count(*) AS records,
       sum(CASE WHEN u.type = 'gpu' THEN
             (epoch(least(u."end", TIMESTAMP ${sql(to)})) -
              epoch(greatest(u.start, TIMESTAMP ${sql(from)}))) * u.gpus
             * coalesce(g.price, gs.price) / 3600
           ELSE
             (coalesce(u.input_tokens, 0) * t.input
              + coalesce(u.cached_tokens, 0) * t.cached_input
              + coalesce(u.output_tokens, 0) * t.output) / 1000000
             * CASE WHEN u.batch THEN 1 - t.batch_discount ELSE 1 END
           END) AS amount
FROM usage u
LEFT JOIN gpu_rates g
  ON u.type = 'gpu' AND g.version = u.version AND g.sku = u.sku
 AND g.region = u.region AND g.market = u.mkt
LEFT JOIN gpu_rates gs
  ON u.type = 'gpu' AND gs.version = u.version AND gs.sku = u.sku
 AND gs.region = '*' AND gs.market = u.mkt
LEFT JOIN token_rates t
  ON u.type = 'tokens' AND t.version = u.version AND t.model = u.model
WHERE u.start < TIMESTAMP ${sql(to)}
  AND (u.type <> 'gpu' OR u."end" > TIMESTAMP ${sql(from)})
  AND (u.type <> 'tokens' OR u.start >= TIMESTAMP ${sql(from)})
GROUP BY ALL`;

const t0 = process.hrtime.bigint();
const result = await db.runAndReadAll(query);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

let records = 0n;
let total = 0;
for (const row of result.getRows()) {
  records += BigInt(row[4]);
  total += Number(row[5] ?? 0);
}
const version = (await db.runAndReadAll('SELECT version()')).getRows()[0][0];
console.log(`duckdb_seconds=${seconds.toFixed(3)} rows=${records} ` +
            `groups=${result.currentRowCount} total=${total.toFixed(2)} version=${version}`);
