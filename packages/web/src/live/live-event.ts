import { LiveEvent } from '@flotilla/protocol';

export { LiveEvent };

/** Every event type, for subscribing to each by name on the EventSource. */
export const LIVE_EVENT_TYPES = LiveEvent.options.map((option) => option.shape.type.value);
