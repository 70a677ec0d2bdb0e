const text: Record<string, string> = {
  proposed: 'proposed',
  pending: 'pending',
  booked: 'booked',
  arrived: 'arrived',
  fulfilled: 'seen',
  cancelled: 'cancelled',
  noshow: 'did not attend',
  'entered-in-error': 'entered in error',
  'checked-in': 'arrived',
  waitlist: 'waiting list',
};

export function appointmentStatusText(status: string | undefined): string {
  return (status && text[status]) ?? status ?? '';
}

export const statusTag: Record<string, string> = {
  booked: 'nhsuk-tag--blue',
  arrived: 'nhsuk-tag--yellow',
  fulfilled: 'nhsuk-tag--green',
  noshow: 'nhsuk-tag--red',
  cancelled: 'nhsuk-tag--grey',
};
