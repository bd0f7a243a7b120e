// Built-in transforms (docs/events.md#transforms): what a declaration with a built-in source and no transform
// uses. Each maps one provider topic onto one seeded event type with JSONPath, like a user's
// transform; Typeform's answers list is the one shape JSONPath cannot build, so it has a step in code.
import type { TransformSpec } from './jsonpath-transform.ts'

export type BuiltinSource = 'shopify' | 'bigcommerce' | 'typeform' | 'calendly'
export type InboundSource = BuiltinSource | 'custom'
export const inboundSources: readonly InboundSource[] = ['shopify', 'bigcommerce', 'typeform', 'calendly', 'custom']

export interface BuiltinTransform {
  /** The provider's name for what it sends (Shopify topic, BigCommerce scope, Typeform/Calendly event). */
  topic: string
  transform: TransformSpec
  /** Shapes JSONPath cannot express; runs after the paths. */
  finish?: (payload: unknown, values: Record<string, unknown>) => Record<string, unknown>
}

interface TypeformAnswer { type?: string, field?: { id?: string, ref?: string }, [key: string]: unknown }

/** Typeform answers carry their value under a key named after their type (`email`, `choice`…). */
function typeformAnswers (payload: unknown): { fieldId: string, fieldRef?: string, type: string, value?: string }[] {
  const answers = (payload as { form_response?: { answers?: TypeformAnswer[] } }).form_response?.answers
  if (!Array.isArray(answers)) return []
  return answers.map((answer) => {
    const type = String(answer.type ?? 'unknown')
    const raw = answer[type]
    let value: string | undefined
    if (raw === undefined || raw === null) value = undefined
    else if (typeof raw !== 'object') value = String(raw)
    else if (Array.isArray((raw as { labels?: unknown[] }).labels)) value = (raw as { labels: unknown[] }).labels.map(String).join(', ')
    else if ((raw as { label?: unknown }).label !== undefined) value = String((raw as { label: unknown }).label)
    else value = JSON.stringify(raw)
    return { fieldId: String(answer.field?.id ?? ''), ...(answer.field?.ref !== undefined ? { fieldRef: String(answer.field.ref) } : {}), type, ...(value !== undefined ? { value } : {}) }
  })
}

// Both Calendly topics carry the same invitee object.
const calendlyInvitee: TransformSpec = {
  eventId: '$.payload.uri',
  occurredAt: '$.created_at',
  source: 'calendly',
  inviteeUri: '$.payload.uri',
  inviteeEmail: '$.payload.email',
  inviteeName: '$.payload.name',
  eventUri: '$.payload.event',
  startTime: '$.payload.scheduled_event.start_time'
}

export const builtinTransforms: Record<BuiltinSource, Record<string, BuiltinTransform>> = {
  shopify: {
    'order.completed.v1': {
      topic: 'orders/create',
      transform: {
        eventId: '$.id',
        occurredAt: '$.created_at',
        source: 'shopify',
        orderId: '$.id',
        orderNumber: '$.name',
        email: '$.email',
        customerId: '$.customer.id',
        total: '$.total_price',
        currency: '$.currency'
      }
    },
    'customer.created.v1': {
      topic: 'customers/create',
      transform: { eventId: '$.id', occurredAt: '$.created_at', source: 'shopify', customerId: '$.id', email: '$.email', firstName: '$.first_name', lastName: '$.last_name' }
    },
    'fulfillment.created.v1': {
      topic: 'fulfillments/create',
      transform: {
        eventId: '$.id',
        occurredAt: '$.created_at',
        source: 'shopify',
        fulfillmentId: '$.id',
        orderId: '$.order_id',
        status: '$.status',
        trackingCompany: '$.tracking_company',
        trackingNumber: '$.tracking_number',
        trackingUrl: '$.tracking_url'
      }
    }
  },
  bigcommerce: {
    // BigCommerce payloads are thin: ids plus the scope; the full object is fetched by the consumer.
    'order.completed.v1': {
      topic: 'store/order/created',
      transform: { eventId: '$.hash', occurredAt: '$.created_at', source: 'bigcommerce', orderId: '$.data.id', scope: '$.scope', storeHash: '$.producer' }
    },
    'customer.created.v1': {
      topic: 'store/customer/created',
      transform: { eventId: '$.hash', occurredAt: '$.created_at', source: 'bigcommerce', customerId: '$.data.id', scope: '$.scope', storeHash: '$.producer' }
    }
  },
  typeform: {
    'form.submitted.v1': {
      topic: 'form_response',
      transform: {
        eventId: '$.event_id',
        occurredAt: '$.form_response.submitted_at',
        source: 'typeform',
        formId: '$.form_response.form_id',
        formTitle: '$.form_response.definition.title',
        responseToken: '$.form_response.token',
        email: '$.form_response.answers[?@.type == "email"].email'
      },
      finish: (payload, values) => ({ ...values, answers: typeformAnswers(payload) })
    }
  },
  calendly: {
    'booking.created.v1': {
      topic: 'invitee.created',
      transform: {
        ...calendlyInvitee,
        endTime: '$.payload.scheduled_event.end_time',
        timezone: '$.payload.timezone'
      }
    },
    'booking.canceled.v1': {
      topic: 'invitee.canceled',
      transform: {
        ...calendlyInvitee,
        canceledBy: '$.payload.cancellation.canceled_by',
        cancelReason: '$.payload.cancellation.reason'
      }
    }
  }
}

export function builtinTransformFor (source: InboundSource, eventType: string): BuiltinTransform | null {
  if (source === 'custom') return null
  return builtinTransforms[source][eventType] ?? null
}
