import type { SessionActor } from 'authcharts';
import { useState } from 'react';
import { ErrorNote, Spinner } from '../ui.js';
import { useAuthorizedGet } from '../useAuthorizedGet.js';

/** Marketiger's answer envelope: `{ success, data }`. */
interface ProjectsAnswer {
  success: boolean;
  data: Array<{ id: string; name?: string }>;
}

/** The signed-in view: an authorized GET /Project/GetProjects, and what it returned. */
export function Projects({ actor, baseURL }: { actor: SessionActor; baseURL: string }) {
  // A new key mounts the list again, which sends the GET again.
  const [round, setRound] = useState(0);
  return (
    <section aria-label="Signed in">
      <h3>Signed in</h3>
      <ProjectList key={round} actor={actor} baseURL={baseURL} />
      <button type="button" onClick={() => setRound((n) => n + 1)}>
        Reload projects
      </button>
    </section>
  );
}

function ProjectList({ actor, baseURL }: { actor: SessionActor; baseURL: string }) {
  const projects = useAuthorizedGet<ProjectsAnswer>(actor, baseURL, '/Project/GetProjects');
  return (
    <>
      {projects.status === 'loading' && <Spinner label="Loading projects…" />}
      {projects.status === 'failed' && <ErrorNote error={projects.error} />}
      {projects.status === 'done' && (
        <>
          <p>Your projects (GET /Project/GetProjects):</p>
          <ul data-testid="projects">
            {projects.data.data.map((project) => (
              <li key={project.id}>{project.name ?? project.id}</li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
