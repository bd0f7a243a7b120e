import t from 'tap'
import { messageBody } from '../../../lib/outbound/message.ts'

t.test('data is embedded as the text it arrived as: big integers keep every digit', async (t) => {
  const body = messageBody({ id: 'a1', type: 'order.completed.v1', createdAt: '2026-11-25T12:00:00.000Z', dataJson: '{"orderId":820982911946154508,"total":"10.00"}' })
  t.equal(body, '{"id":"a1","type":"order.completed.v1","createdAt":"2026-11-25T12:00:00.000Z","data":{"orderId":820982911946154508,"total":"10.00"}}')
  t.same(Object.keys(JSON.parse(body)), ['id', 'type', 'createdAt', 'data'])
})

t.test('strings are escaped as JSON', async (t) => {
  const body = messageBody({ id: 'x"y', type: 'webhook.test', createdAt: 'now', dataJson: '{}' })
  t.same(JSON.parse(body), { id: 'x"y', type: 'webhook.test', createdAt: 'now', data: {} })
})
