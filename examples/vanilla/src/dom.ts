/** A few lines instead of a framework: create an element with properties and children. */
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  // NoInfer: the tag alone picks the element type, so handlers such as `onsubmit` get typed events.
  // (No Omit<>: a form's string index signature would swallow every named property.)
  props: NoInfer<Partial<HTMLElementTagNameMap[K]>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  // `dataset` is a read-only property: copy its entries instead of replacing it.
  const { dataset, ...rest } = props;
  const element = Object.assign(document.createElement(tag), rest);
  if (dataset) Object.assign(element.dataset, dataset);
  for (const child of children)
    if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

/** Only the last digits: enough for a person to recognise their phone, not enough to leak it. */
export function maskPhone(phone: string | null | undefined): string {
  return phone ? `…${phone.slice(-4)}` : 'no verified phone';
}

export function spinner(label: string): HTMLElement {
  return h('p', { className: 'busy', role: 'status' }, h('span', { className: 'spinner' }), ` ${label}`);
}
