"""The worker pipeline: jobs from the queue, their effects carried out, the outbox sent to the CRM."""
