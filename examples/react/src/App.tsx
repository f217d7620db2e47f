import type { ReactNode } from 'react';
import { MarketigerSignIn } from './marketiger/MarketigerSignIn.js';
import { MrkterSignIn } from './mrkter/MrkterSignIn.js';
import type { PageSetup, Service } from './setup.js';
import { ErrorNote } from './ui.js';

export function App({ setup }: { setup: PageSetup }) {
  return (
    <main>
      <h1>authcharts · React</h1>
      <p className="lead">Two sign-in flows, each an XState statechart driven by these forms.</p>
      <div className="panels">
        <Panel title="Marketiger" id="marketiger">
          <WithService
            service={setup.marketiger}
            render={(api) => (
              <MarketigerSignIn api={api} input={setup.marketigerInput} coordinator={setup.coordinator} />
            )}
          />
        </Panel>
        <Panel title="Mrkter" id="mrkter">
          <WithService
            service={setup.mrkter}
            render={(api) => (
              <MrkterSignIn api={api} input={setup.mrkterInput} persist={setup.persistMrkter} />
            )}
          />
        </Panel>
      </div>
    </main>
  );
}

function Panel({ title, id, children }: { title: string; id: string; children: ReactNode }) {
  return (
    <section className="panel" id={id} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}

/** Renders the flow when its service exists, else says why it does not. */
function WithService<Api>({ service, render }: { service: Service<Api>; render: (api: Api) => ReactNode }) {
  if ('api' in service) return render(service.api);
  if ('error' in service) return <ErrorNote error={service.error} />;
  return (
    <p className="hint">
      Open this page with <code>?{service.missing}=…</code> in its address: <code>npm run simulate</code>{' '}
      prints the URLs of local simulators.
    </p>
  );
}
