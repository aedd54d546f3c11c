// The assistant's requests the widget turns into buttons. The API has no
// field for the assistant's action yet (ADR 0014, "The assistant": "the
// text asks the customer"), so until it has, the widget recognises the
// built-in assistant's own sentences (services/conversation/internal/
// assistant/messages.go, msgStepUp and msgLogin, all six languages) word
// for word. A reply that is not one of them gets no button, which is the
// safe side: the text still says what to do.

const STEP_UP = [
  'For your security, please confirm it is you with your second factor, then ask me again.',
  'Zu Ihrer Sicherheit bestätigen Sie bitte mit Ihrem zweiten Faktor, dass Sie es sind, und fragen Sie dann erneut.',
  'Pour votre sécurité, confirmez votre identité avec votre second facteur, puis posez à nouveau votre question.',
  'Por su seguridad, confirme su identidad con su segundo factor y vuelva a preguntarme.',
  'Bevestig voor uw veiligheid met uw tweede factor dat u het bent en vraag het daarna opnieuw.',
  'Per la sua sicurezza, confermi la sua identità con il secondo fattore e poi me lo chieda di nuovo.',
];

const LOGIN = [
  'Please sign in to your account (or link this chat to it) so that I can help with your orders.',
  'Bitte melden Sie sich in Ihrem Konto an (oder verknüpfen Sie diesen Chat damit), damit ich Ihnen bei Ihren Bestellungen helfen kann.',
  'Veuillez vous connecter à votre compte (ou y associer cette discussion) pour que je puisse vous aider avec vos commandes.',
  'Inicie sesión en su cuenta (o vincule este chat a ella) para que pueda ayudarle con sus pedidos.',
  'Log in op uw account (of koppel deze chat eraan) zodat ik u kan helpen met uw bestellingen.',
  'Acceda al suo account (o colleghi questa chat) così che possa aiutarla con i suoi ordini.',
];

// cue is 'step_up', 'login' or '' for an assistant message's text.
export function cue(text) {
  const t = String(text ?? '');
  if (STEP_UP.some((s) => t.includes(s))) return 'step_up';
  if (LOGIN.some((s) => t.includes(s))) return 'login';
  return '';
}
