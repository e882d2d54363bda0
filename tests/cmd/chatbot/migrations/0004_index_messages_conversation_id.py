"""
Index messages by conversation
"""
from yoyo import step

__depends__ = {"0003_create_messages"}

steps = [
    step(
        "CREATE INDEX IF NOT EXISTS idx_messages_conversation_id ON messages(conversation_id)",
        "DROP INDEX IF EXISTS idx_messages_conversation_id",
    ),
]
