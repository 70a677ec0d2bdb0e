/**
 * The staff app signed in to the regional hub with a hub role (region-lead, service-desk): the
 * region's pages only. No patient search, record or practice status bar: hub accounts see figures.
 */
import { hubRoleDescriptions, type HubRole } from '@steadfast/domain/region';
import { match, navigate, onLinkClick } from '../router.ts';
import type { User } from '../session.ts';
import { TwoFactorSetup } from '../auth/TwoFactorSetup.tsx';
import { PracticePage } from './PracticePage.tsx';
import { RegionPage } from './RegionPage.tsx';
import { HubIncidentPage } from '../incidents/HubIncidentPage.tsx';
import { HubIncidentsPage } from '../incidents/HubIncidentsPage.tsx';
import { hubMay } from '@steadfast/domain/region';

const roleNames: Record<HubRole, string> = { 'region-lead': 'Region lead', 'service-desk': 'Service desk' };

function RegionScreen({ path, role }: { path: string; role: HubRole }) {
  let m: Record<string, string> | undefined;
  if ((m = match('/region/incidents/:id', path))) return <HubIncidentPage id={m.id!} canPost={hubMay(role, 'post-update')} />;
  if (match('/region/incidents', path)) return <HubIncidentsPage canOpen={hubMay(role, 'open-incident')} />;
  if ((m = match('/region/practice/:ods', path))) return <PracticePage practice={m.ods!} />;
  if (match('/account/two-factor', path)) return <TwoFactorSetup forced={false} onDone={() => navigate('/region')} />;
  if (match('/region', path) || match('/', path)) return <RegionPage />;
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <a href="/region" onClick={onLinkClick('/region')}>
          All practices
        </a>
      </p>
    </>
  );
}

export function RegionApp({ user, path, onSignOut }: { user: User & { role: string }; path: string; onSignOut: () => void }) {
  const role = user.role as HubRole;
  return (
    <>
      <a className="nhsuk-skip-link" href="#maincontent">
        Skip to main content
      </a>
      <header className="nhsuk-header" role="banner">
        <div className="nhsuk-header__container nhsuk-width-container">
          <div className="nhsuk-header__service">
            <a className="nhsuk-header__service-logo" href="/region" onClick={onLinkClick('/region')} aria-label="Steadfast region home">
              <span className="nhsuk-header__service-name">Steadfast region</span>
            </a>
          </div>
          <nav className="nhsuk-header__account" aria-label="Account">
            <ul className="nhsuk-header__account-list">
              <li className="nhsuk-header__account-item" data-testid="signed-in-user" title={hubRoleDescriptions[role]}>
                {user.name} <strong className="sf-role">{roleNames[role] ?? user.role}</strong>
              </li>
              <li className="nhsuk-header__account-item">
                <a className="nhsuk-header__account-link" href="/region/incidents" onClick={onLinkClick('/region/incidents')}>
                  Incidents
                </a>
              </li>
              <li className="nhsuk-header__account-item">
                <a className="nhsuk-header__account-link" href="/account/two-factor" onClick={onLinkClick('/account/two-factor')}>
                  Sign-in security
                </a>
              </li>
              <li className="nhsuk-header__account-item">
                <button type="button" className="nhsuk-header__account-button" onClick={onSignOut}>
                  Sign out
                </button>
              </li>
            </ul>
          </nav>
        </div>
      </header>
      <div className="nhsuk-width-container sf-region-container">
        <main className="nhsuk-main-wrapper" id="maincontent" role="main">
          <RegionScreen path={path} role={role} />
        </main>
      </div>
    </>
  );
}
