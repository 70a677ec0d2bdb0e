import { onLinkClick, usePath } from '../router.ts';
import { roleLabel, seesClinical, type User } from '../session.ts';
import { PanicButton } from '../alarm/PanicButton.tsx';
import { useUnreviewedCount } from '../breakglass/EmergencyAccess.tsx';
import { useUnreadReplies } from '../messaging/useUnreadReplies.ts';

const NHS_LOGO = 'M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z';

/** The messaging screens share one header item (they have their own links below it). */
const MESSAGING_PATHS = ['/replies', '/outbox', '/admin/templates', '/admin/broadcast'];

interface NavItem {
  path: string;
  label: string;
  show: boolean;
}

export function Header({ user, onSignOut, onLock, locked }: { user: User; onSignOut: () => void; onLock: () => void; locked: boolean }) {
  const path = usePath();
  const unreviewed = useUnreviewedCount(user.role === 'practice-admin');
  const replies = useUnreadReplies(user.role !== 'practice-admin');
  // Emergency access is in the header only while there is access to review (the Practice admin page
  // always links it): seven items wrapped the header onto two lines and failed axe's contrast check.
  const items: NavItem[] = [
    { path: '/', label: 'Find a patient', show: true },
    { path: '/appointments', label: 'Appointments', show: true },
    { path: '/tasks', label: 'Tasks', show: true },
    { path: '/online-consultations', label: 'Online consultations', show: true },
    { path: '/documents', label: 'Documents', show: true },
    { path: '/results', label: 'Results', show: seesClinical(user.role) },
    { path: '/medicines/repeat-requests', label: 'Repeats', show: user.role === 'clinician' },
    { path: '/shared', label: 'Shared records', show: seesClinical(user.role) },
    { path: '/admin', label: 'Practice admin', show: user.role === 'practice-admin' },
    { path: user.role === 'practice-admin' ? '/outbox' : '/replies', label: replies ? `Messaging (${replies} ${replies === 1 ? 'reply' : 'replies'})` : 'Messaging', show: true },
    { path: '/admin/emergency-access', label: `Emergency access (${unreviewed} to review)`, show: user.role === 'practice-admin' && (unreviewed ?? 0) > 0 },
  ];
  return (
    <header className="nhsuk-header" role="banner">
      <div className="nhsuk-header__container nhsuk-width-container">
        <div className="nhsuk-header__service">
          <a className="nhsuk-header__service-logo" href="/" onClick={onLinkClick('/')} aria-label="Steadfast home">
            <svg className="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" height="40" width="100" focusable="false" role="img" aria-label="NHS">
              <title>NHS</title>
              <path fill="currentcolor" d={NHS_LOGO} />
            </svg>
            <span className="nhsuk-header__service-name">Steadfast</span>
          </a>
        </div>
        <nav className="nhsuk-header__account" aria-label="Account">
          <ul className="nhsuk-header__account-list">
            <li className="nhsuk-header__account-item" data-testid="signed-in-user">
              {user.name} <strong className="sf-role">{roleLabel[user.role]}</strong>
              {user.workstation ? <span className="sf-workstation"> · {user.workstation}</span> : null}
            </li>
            {!locked ? (
              <li className="nhsuk-header__account-item">
                <a className="nhsuk-header__account-link" href="/account/two-factor" onClick={onLinkClick('/account/two-factor')}>
                  Sign-in security
                </a>
              </li>
            ) : null}
            <li className="nhsuk-header__account-item">
              <PanicButton />
            </li>
            {!locked ? (
              <li className="nhsuk-header__account-item">
                <button type="button" className="nhsuk-header__account-button" onClick={onLock}>
                  Lock
                </button>
              </li>
            ) : null}
            <li className="nhsuk-header__account-item">
              <button type="button" className="nhsuk-header__account-button" onClick={onSignOut}>
                Sign out
              </button>
            </li>
          </ul>
        </nav>
      </div>
      {/* While locked only the panic alarm and sign-out stay usable. */}
      <nav className="nhsuk-header__navigation" aria-label="Menu" hidden={locked}>
        <div className="nhsuk-header__navigation-container nhsuk-width-container">
          <ul className="nhsuk-header__navigation-list">
            {items
              .filter((i) => i.show)
              .map((i) => {
                const current = i.path === '/' ? path === '/' || path.startsWith('/?') : i.label.startsWith('Messaging') ? MESSAGING_PATHS.some((p) => path.startsWith(p)) : i.path === '/admin' ? path.startsWith('/admin') && !path.startsWith('/admin/emergency-access') && !MESSAGING_PATHS.some((p) => path.startsWith(p)) : path.startsWith(i.path);
                return (
                  <li className={`nhsuk-header__navigation-item${current ? ' nhsuk-header__navigation-item--current' : ''}`} key={i.path}>
                    <a className="nhsuk-header__navigation-link" href={i.path} onClick={onLinkClick(i.path)} aria-current={current ? 'page' : undefined}>
                      {i.label}
                    </a>
                  </li>
                );
              })}
          </ul>
        </div>
      </nav>
    </header>
  );
}
