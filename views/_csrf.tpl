%# The CSRF token every POST form sends back (part 3 checks it). Pass form_id='...' for an
%# input that belongs to a form elsewhere on the page.
<input type="hidden" name="csrf_token" value="{{csrf_token()}}"{{!' form="%s"' % form_id if get('form_id') else ''}}>
