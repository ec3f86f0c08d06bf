-- What the counted numbers of an activity mean, as the Bufdir counting rules
-- read them (docs/column-config.md quotes the regulation): the app records
-- them so, the report counts them so.

----------------------------------------------------------------------------
-- comments
----------------------------------------------------------------------------

comment on column public.activities.participant_count is
  'The people the peer mentor met, not counting the peer mentor: a talk or activity group counts with 3 or more ("tre eller flere deltakere"), outreach with 1 or more.';
comment on column public.activities.duration_minutes is
  'How long the activity lasted on its date, in minutes: a group counts from 45, a course day from 90; outreach has no minimum.';
comment on column public.activities.contact_method is
  'How the peer mentor and the participants met: outreach counts only in_person ("ved personlig fremmøte").';
comment on column public.activities.in_norway is
  'Whether the activity took place in Norway: only those count.';
