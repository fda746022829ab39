/**
 * The `node:diagnostics_channel` channels: one per product, each carrying that product's events
 * (the IdP's `idp.…` events go out on the channel of the product that called the IdP).
 * Subscribe with `diagnostics_channel.subscribe('portcullis:agent', (event) => …)`. An event is
 * published only while the channel has subscribers, so an unwatched channel costs one property read.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { Product } from './events.js';

/** The channel names, one per product. */
export type ChannelName = 'portcullis:agent' | 'portcullis:bearer' | 'portcullis:signin';

export const CHANNELS = {
  agent: 'portcullis:agent',
  bearer: 'portcullis:bearer',
  signin: 'portcullis:signin',
} as const satisfies Record<Product, ChannelName>;

export function productChannel(product: Product): diagnostics_channel.Channel {
  return diagnostics_channel.channel(CHANNELS[product]);
}
