// Built-in event types (docs/events.md#built-in-types): `lead.captured.v1` exactly as the integrator's seed document published it, and
// the types the built-in inbound transforms emit. Versions are immutable; a change is a new `.vN`.
import type { FieldSpecs } from './field-schema.ts'

const common = {
  eventId: { type: 'string', required: true, description: "The provider's own id of this event or object, kept as text." },
  occurredAt: { type: 'datetime', required: true },
  source: { type: 'string', required: true, description: 'The provider that sent it: shopify, bigcommerce, typeform, calendly or a custom name.' },
  brandId: { type: 'string', required: false }
} as const satisfies FieldSpecs

// The Calendly invitee both booking types describe.
const invitee = {
  inviteeUri: { type: 'url', required: false },
  inviteeEmail: { type: 'email', required: false },
  inviteeName: { type: 'string', required: false },
  eventUri: { type: 'url', required: false },
  startTime: { type: 'datetime', required: false }
} as const satisfies FieldSpecs

/** Checks each declaration is a FieldSpecs and keeps its literal types (@loop/contracts derives the payload types from them). */
function declarations<const T extends Record<string, FieldSpecs>> (types: T): T {
  return types
}

export const builtinEventDeclarations = declarations({
  'lead.captured.v1': {
    eventId: { type: 'uuid', required: true },
    occurredAt: { type: 'datetime', required: true },
    brandId: { type: 'uuid', required: true },
    email: { type: 'email', required: true },
    source: { type: 'enum', values: ['vsl_form', 'quiz_completion', 'inbound_lead', 'other'], required: true },
    attribution: { type: 'object', required: true },
    personId: { type: 'uuid', required: false }
  },
  'order.completed.v1': {
    ...common,
    // Optional: the published transform for this type maps only eventId, occurredAt, brandId, email.
    orderId: { type: 'string', required: false },
    orderNumber: { type: 'string', required: false },
    email: { type: 'email', required: false },
    customerId: { type: 'string', required: false },
    total: { type: 'string', required: false, description: 'Decimal amount as text, e.g. "199.00".' },
    currency: { type: 'string', required: false },
    scope: { type: 'string', required: false, description: 'BigCommerce webhook scope, e.g. store/order/created.' },
    storeHash: { type: 'string', required: false }
  },
  'customer.created.v1': {
    ...common,
    customerId: { type: 'string', required: true },
    email: { type: 'email', required: false },
    firstName: { type: 'string', required: false },
    lastName: { type: 'string', required: false },
    scope: { type: 'string', required: false },
    storeHash: { type: 'string', required: false }
  },
  'fulfillment.created.v1': {
    ...common,
    fulfillmentId: { type: 'string', required: true },
    orderId: { type: 'string', required: false },
    status: { type: 'string', required: false },
    trackingCompany: { type: 'string', required: false },
    trackingNumber: { type: 'string', required: false },
    trackingUrl: { type: 'url', required: false }
  },
  'form.submitted.v1': {
    ...common,
    formId: { type: 'string', required: true },
    formTitle: { type: 'string', required: false },
    responseToken: { type: 'string', required: false },
    email: { type: 'email', required: false },
    answers: {
      type: 'array',
      required: false,
      items: {
        type: 'object',
        fields: {
          fieldId: { type: 'string', required: true },
          fieldRef: { type: 'string', required: false },
          type: { type: 'string', required: true },
          value: { type: 'string', required: false, description: 'The answer as text (choices joined with ", ").' }
        }
      }
    }
  },
  'booking.created.v1': {
    ...common,
    ...invitee,
    endTime: { type: 'datetime', required: false },
    timezone: { type: 'string', required: false }
  },
  'booking.canceled.v1': {
    ...common,
    ...invitee,
    canceledBy: { type: 'string', required: false },
    cancelReason: { type: 'string', required: false }
  }
})

export const builtinEventTypes: Record<string, FieldSpecs> = builtinEventDeclarations
