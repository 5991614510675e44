"""Live fan-out of chat items to the sockets that subscribed to a contact."""
