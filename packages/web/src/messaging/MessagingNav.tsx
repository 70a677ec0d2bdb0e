/** The messaging screens' own navigation: one "Messaging" item in the header, these links below it. */
import { onLinkClick, usePath } from '../router.ts';
import { useSession } from '../session.ts';

export function MessagingNav() {
  const { user } = useSession();
  const path = usePath();
  const admin = user.role === 'practice-admin';
  const links = [
    { path: '/replies', label: 'Patient replies', show: !admin },
    { path: '/outbox', label: 'Outbox', show: true },
    { path: '/admin/templates', label: 'Message templates', show: admin },
    { path: '/admin/broadcast', label: 'Service disruption broadcast', show: admin },
  ].filter((l) => l.show);
  return (
    <nav aria-label="Messaging" className="nhsuk-u-margin-bottom-4">
      <ul className="sf-scope-tabs">
        {links.map((l) => {
          const current = path.startsWith(l.path);
          return (
            <li key={l.path}>
              <a href={l.path} onClick={onLinkClick(l.path)} aria-current={current ? 'page' : undefined} className={`nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0${current ? ' sf-scope-tabs__current' : ''}`}>
                {l.label}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
