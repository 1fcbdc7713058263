// The main flows of a shop's server, through i'mport's REST clients from npm, against a live
// PG Console: tests/payments/test_live_clients.py runs it (node, with NODE_PATH on the
// clients that `npm ci` installed from package-lock.json) and reads what it prints.
//
//   BASE_URL, IMP_KEY, IMP_SECRET: the console and a REST API key of a merchant whose shared
//   test channels pay (nice: key-in and virtual accounts; ksnet.2999199990: billing keys).
//
// It prints one JSON object (what each flow answered) and exits 0, or prints the failure and
// exits 1. Each step asserts what the shop's code would rely on.
'use strict';

const assert = require('assert');
const Iamport = require('iamport'); // the official client (iamport/iamport-rest-client-nodejs)
const iamportMethod = require('iamport/lib/resource').iamportMethod;
const { Iamporter } = require('iamporter'); // posquit0/node-iamporter

const base = process.env.BASE_URL.replace(/\/$/, '');
const CARD = '9410-0000-7000-0000'; // a test card that approves
const OWN_CARD = '4111-1111-1111-1111'; // a shop's own number: approves, only its mask is kept
const now = () => Math.floor(Date.now() / 1000);

function official() {
  const client = new Iamport({ impKey: process.env.IMP_KEY, impSecret: process.env.IMP_SECRET });
  client._host = base; // the constructor fixes api.iamport.kr; its resources read _host
  client._preResources();
  // Version 0.4.0 on GitHub (not on npm) adds the schedule lists; the same declaration through the
  // published client's own request code, which reads the page (total, previous, next, list).
  client.subscribe.getSchedules = iamportMethod({
    method: 'GET', command: 'schedule', urlParam: null, require: ['schedule_from', 'schedule_to'] });
  client.subscribe.getSchedulesByCustomerUid = iamportMethod({
    method: 'GET', command: 'schedule/customers', urlParam: 'customer_uid', require: ['from', 'to'] });
  return client;
}

async function iamporterFlows(out) {
  const client = new Iamporter({ apiKey: process.env.IMP_KEY, secret: process.env.IMP_SECRET, host: base });
  const token = await client.getToken();
  assert.strictEqual(token.status, 200);
  assert.ok(token.data.access_token && token.data.expired_at > now());

  const prepared = await client.createPreparedPayment({ merchant_uid: 'node_order_1', amount: 12000 });
  assert.strictEqual(prepared.data.amount, 12000);
  assert.strictEqual((await client.getPreparedPayment('node_order_1')).data.amount, 12000);

  // payOnetime checks itself that the answer is paid with the amount asked (_validatePayment).
  const paid = await client.payOnetime({
    merchant_uid: 'node_order_1', amount: 12000, card_number: OWN_CARD, expiry: '2030-12', birth: '900101',
    pg: 'nice', name: 'Blue mug' });
  assert.strictEqual(paid.data.card_number, '411111******1111');
  const found = await client.findByImpUid(paid.data.imp_uid);
  assert.strictEqual(found.data.status, 'paid');
  assert.ok('promotion' in found.data && 'emb_pg_provider' in found.data);

  const part = await client.cancelByImpUid(paid.data.imp_uid, { amount: 2000, checksum: null, reason: 'one cup' });
  assert.strictEqual(part.data.status, 'paid');
  assert.strictEqual(part.data.cancel_amount, 2000);
  assert.strictEqual(part.data.cancel_history.length, 1);
  assert.strictEqual(part.data.cancelled_at, part.data.cancel_history[0].cancelled_at);
  const rest = await client.cancelByMerchantUid('node_order_1', { checksum: 10000 });
  assert.strictEqual(rest.data.status, 'cancelled');

  const key = await client.createSubscription({
    customer_uid: 'node_customer_1', card_number: CARD, expiry: '2030-12', birth: '900101',
    pg: 'ksnet.2999199990' });
  assert.strictEqual(key.data.customer_uid, 'node_customer_1');
  assert.strictEqual((await client.getSubscription('node_customer_1')).data.card_number, key.data.card_number);
  const again = await client.paySubscription({
    customer_uid: 'node_customer_1', merchant_uid: 'node_again_1', amount: 9900, name: 'Monthly plan' });
  assert.strictEqual(again.data.customer_uid, 'node_customer_1');

  const foreign = await client.payForeign({
    merchant_uid: 'node_foreign_1', amount: 3000, card_number: OWN_CARD, expiry: '2030-12', pg: 'nice' });
  assert.strictEqual(foreign.data.status, 'paid');

  const vbank = await client.createVbank({
    merchant_uid: 'node_vbank_1', amount: 5000, vbank_code: '004', vbank_due: Date.now() / 1000 + 86400,
    vbank_holder: 'Hong', pg: 'nice' });
  assert.strictEqual(vbank.data.status, 'ready');

  const listed = await client.findAllByStatus('paid');
  assert.ok(listed.data.total >= 2 && Array.isArray(listed.data.list));
  out.iamporter = { imp_uid: paid.data.imp_uid, again: again.data.imp_uid, vbank: vbank.data.imp_uid,
    paid_listed: listed.data.total };
}

async function officialFlows(out) {
  const client = official();
  const key = await client.subscribe_customer.create({
    customer_uid: 'node_customer_2', card_number: OWN_CARD, expiry: '2030-12', birth: '900101', pwd_2digit: '00',
    pg: 'ksnet.2999199990' });
  assert.strictEqual(key.card_number, '411111******1111');
  const at = now() + 3600;
  const made = await client.subscribe.schedule({ customer_uid: 'node_customer_2', schedules: [
    { merchant_uid: 'node_plan_1', schedule_at: at, amount: 9900, name: 'Monthly plan' },
    { merchant_uid: 'node_plan_2', schedule_at: at + 86400, amount: 9900, name: 'Monthly plan' }] });
  assert.deepStrictEqual(made.map((s) => s.merchant_uid), ['node_plan_1', 'node_plan_2']);

  const page = await client.subscribe.getSchedules({ schedule_from: at - 60, schedule_to: at + 2 * 86400,
    limit: 1, page: 1 });
  assert.strictEqual(page.total, 2);
  assert.strictEqual(page.previous, 0);
  assert.strictEqual(page.next, 2);
  assert.deepStrictEqual(page.list.map((s) => s.merchant_uid), ['node_plan_2']); // latest first
  const ofCustomer = await client.subscribe.getSchedulesByCustomerUid({
    customer_uid: 'node_customer_2', from: at - 60, to: at + 2 * 86400, 'schedule-status': 'scheduled' });
  assert.strictEqual(ofCustomer.total, 2);

  const revoked = await client.subscribe.unschedule({ customer_uid: 'node_customer_2', merchant_uid: ['node_plan_2'] });
  assert.deepStrictEqual(revoked.map((s) => s.schedule_status), ['revoked']);
  const again = await client.subscribe.again({
    customer_uid: 'node_customer_2', merchant_uid: 'node_again_2', amount: 1000, name: 'Extra' });
  assert.strictEqual(again.status, 'paid');
  const found = await client.payment.getByImpUid({ imp_uid: again.imp_uid });
  assert.strictEqual(found.amount, 1000);
  const cancelled = await client.payment.cancel({ imp_uid: again.imp_uid, reason: 'refund' });
  assert.strictEqual(cancelled.status, 'cancelled');
  out.iamport = { scheduled: page.total, revoked: revoked.length, again: again.imp_uid };
}

(async () => {
  const out = {};
  await iamporterFlows(out);
  await officialFlows(out);
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
