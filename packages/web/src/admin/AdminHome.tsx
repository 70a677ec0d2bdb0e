import { onLinkClick } from '../router.ts';
import { useSession } from '../session.ts';
import { NotAvailable } from '../record/Section.tsx';

const PAGES = [
  { path: '/admin/staff', title: 'Staff accounts', text: 'Add staff, disable leavers, reset a password, unlock an account.' },
  { path: '/admin/sessions', title: 'Diary sessions', text: "Set up clinicians' sessions: slot type and length; remove a session with nothing booked." },
  { path: '/admin/audit', title: 'Audit trail', text: 'Who did what, when and from where: search by staff member, patient, event and date.' },
  { path: '/admin/rooms', title: 'Rooms and workstations', text: 'Which room each workstation is in, for the panic alarm; the screen lock.' },
  { path: '/admin/emergency-access', title: 'Emergency access', text: 'Review emergency (break-glass) access to records.' },
];

/** The practice manager's screens. */
export function AdminHome() {
  const { user } = useSession();
  if (user.role !== 'practice-admin') return <NotAvailable what="practice administration" />;
  return (
    <>
      <h1>Practice administration</h1>
      <ul className="nhsuk-list">
        {PAGES.map((p) => (
          <li key={p.path}>
            <a href={p.path} onClick={onLinkClick(p.path)} className="nhsuk-heading-s">
              {p.title}
            </a>
            <p className="nhsuk-body-s">{p.text}</p>
          </li>
        ))}
      </ul>
    </>
  );
}
