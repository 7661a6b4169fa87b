"""What the bot keeps about each member, so that a member can see it (/mydata) and have it deleted
(/forgetme), and an organiser can apply a retention period (``localbot db purge``).

Every feature declares its member-linked data once, as a :class:`~localbot.privacy.registry.MemberData`
in :data:`~localbot.privacy.registry.FEATURES`; a test checks the declarations against the live schema,
so a table that references members cannot be forgotten by accident.
"""
