"""Communities, their channels in each messenger, members and memberships (messenger-neutral)."""

from localbot.community.model import Channel, Community, Member, Role

__all__ = ["Channel", "Community", "Member", "Role"]
